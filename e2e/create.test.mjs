// Create with identity, end to end in Chromium against the demo-tenant build (dist-demo/: armsim's
// core runs in the page, with a principal replication delay): a Uniform scale set with a
// system-assigned and a new user-assigned identity (read back on its resource page), Flexible +
// system-assigned refused with the reason, a role grant that waits out PrincipalNotFound with a
// visible countdown, a user-assigned identity created inline from the assign wizard, and a Linux VM
// with a system-assigned and a new user-assigned identity (the same steps; read back on its page).
// A screenshot of every step goes to e2e-artifacts/create-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoTenant } from './lib/demo.mjs';
import { screenshot } from './lib/browser.mjs';

const SUB = '11111111-1111-4111-8111-111111111111';
const SSH = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheDemoTenantOnly e2e@test';
const demo = demoTenant();
const open = (t) => demo.open(t);

const text = (page, sel) => page.locator(sel).innerText();
const step = (page) => page.getAttribute('#create', 'data-step');

/** Select `value` in a select once the option has been listed. */
async function choose(page, sel, value) {
  await page.locator(`${sel} option[value="${value}"]`).waitFor({ state: 'attached', timeout: 15_000 });
  await page.selectOption(sel, value);
}

/** Fill the first four steps: basics, instances, network, admin. */
async function fillToIdentity(page, { name, orchestration }) {
  await page.goto(demo.server.url);
  await page.click('li[data-slug="create-scale-set"] a:text-is("Create a scale set")');
  await page.waitForURL(/\/create\/scale-set$/);
  assert.equal(await step(page), 'basics');
  // Next on an empty step: stays, and names what is missing
  await page.click('#create-next');
  assert.equal(await step(page), 'basics');
  assert.match(await text(page, '#step-errors'), /problem/);
  await choose(page, '#create-subscription', SUB);
  await choose(page, '#create-group', 'rg-web');
  // live validation names the rule
  await page.fill('#create-name', 'bad name!');
  assert.match(await text(page, '#create-name-error'), /not allowed/);
  assert.equal(await page.getAttribute('#create-name', 'aria-invalid'), 'true');
  await page.fill('#create-name', name);
  await choose(page, '#create-location', 'westeurope');
  await screenshot(page, `create-${orchestration}-1-basics`);
  await page.click('#create-next');
  assert.equal(await step(page), 'instances');

  await page.check(`#orchestration-${orchestration.toLowerCase()}`);
  await page.check('#image-ubuntu');
  const sizes = await page.$$eval('#create-size option', (o) => o.map((x) => x.value).filter(Boolean));
  assert.ok(sizes.length >= 2, `sizes listed from the region: ${sizes}`);
  await choose(page, '#create-size', 'Standard_B2s');
  await page.fill('#create-capacity', '1001');
  assert.match(await text(page, '#create-capacity-error'), /0-1000/);
  await page.fill('#create-capacity', '2');
  await screenshot(page, `create-${orchestration}-2-instances`);
  await page.click('#create-next');
  assert.equal(await step(page), 'network');

  const subnets = await page.$$eval('#create-subnet option', (o) => o.map((x) => x.value).filter(Boolean));
  const web = subnets.find((s) => s.endsWith('/subnets/snet-web'));
  assert.ok(web, `subnets of VNets in the region: ${subnets}`);
  await page.selectOption('#create-subnet', web);
  await screenshot(page, `create-${orchestration}-3-network`);
  await page.click('#create-next');
  assert.equal(await step(page), 'admin');

  await page.fill('#create-admin', 'root');
  assert.match(await text(page, '#create-admin-error'), /reserved/);
  await page.fill('#create-admin', 'azureuser');
  await page.fill('#create-ssh', 'not a key');
  assert.match(await text(page, '#create-ssh-error'), /OpenSSH public key/);
  await page.fill('#create-ssh', SSH);
  await screenshot(page, `create-${orchestration}-4-admin`);
  await page.click('#create-next');
  assert.equal(await step(page), 'identity');
  return web;
}

test('create a Uniform scale set with system-assigned + a new user-assigned identity, then grant it a role', async (t) => {
  const { page } = await open(t);
  const name = 'vmss-created';
  const subnet = await fillToIdentity(page, { name, orchestration: 'Uniform' });
  assert.equal(await page.isChecked('#create-sa'), true);
  await page.fill('#create-new-identity', 'id-created');
  await screenshot(page, 'create-Uniform-5-identity');
  await page.click('#create-next');
  assert.equal(await step(page), 'review');

  // the review: the identity's PUT first, then the scale set's PUT with both identities
  assert.match(await text(page, '#outcome'), /^2 request\(s\) will be sent/);
  const reqs = await page.$$eval('#uai-requests pre, #requests pre', (p) => p.map((x) => x.textContent));
  assert.equal(reqs.length, 2);
  assert.match(reqs[0], new RegExp(`^PUT https://management\\.azure\\.com/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/id-created\\?api-version=`));
  assert.match(reqs[1], new RegExp(`^PUT https://management\\.azure\\.com/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft\\.Compute/virtualMachineScaleSets/${name}\\?api-version=`));
  assert.match(reqs[1], /^If-None-Match: \*$/m);
  const body = JSON.parse(reqs[1].slice(reqs[1].indexOf('\n{')));
  assert.equal(body.identity.type, 'SystemAssigned, UserAssigned');
  assert.deepEqual(Object.keys(body.identity.userAssignedIdentities).map((k) => k.split('/').pop()), ['id-created']);
  assert.equal(body.properties.orchestrationMode, 'Uniform');
  assert.equal(body.sku.name, 'Standard_B2s');
  assert.equal(body.sku.capacity, 2);
  assert.equal(body.properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[0].properties.ipConfigurations[0].properties.subnet.id, subnet);
  assert.equal(body.properties.virtualMachineProfile.osProfile.linuxConfiguration.ssh.publicKeys[0].keyData, SSH);
  // scripts: the identity's (New-AzUserAssignedIdentity), then the scale set's exact PUT with the
  // password never inside; the CLI form waits for the creation
  assert.match(await page.locator('#uai-script-panel pre').innerText(), /New-AzUserAssignedIdentity/);
  assert.equal(await page.locator('#scripts').count(), 1, 'ids stay unique');
  const vmssScripts = page.locator('#scripts');
  const ps = await vmssScripts.locator('pre').innerText();
  assert.match(ps, /New-AzVmssConfig .*-IdentityType SystemAssignedUserAssigned/);
  assert.match(ps, /New-AzVmss .*-IfNoneMatch '\*'/);
  await vmssScripts.locator('#tab-cli-bash').click();
  const cli = await vmssScripts.locator('pre').innerText();
  assert.match(cli, /az vmss create /);
  assert.match(cli, /--assign-identity '\[system\]' '[^']*\/userAssignedIdentities\/id-created'/);
  await vmssScripts.locator('#tab-cli-rest-bash').click();
  const rest = await vmssScripts.locator('pre').innerText();
  assert.match(rest, /az rest --method put/);
  assert.match(rest, /"userAssignedIdentities":\{"[^"]*\/userAssignedIdentities\/id-created":\{\}\}/);
  assert.match(rest, /az vmss wait .*--custom 'provisioningState!=/);
  assert.equal(await page.isDisabled('#apply'), true, 'read-only by default');
  await screenshot(page, 'create-Uniform-6-review');

  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#progress').waitFor();
  await screenshot(page, 'create-Uniform-7-progress');
  await page.locator('#result').waitFor({ timeout: 60_000 });
  assert.match(await text(page, '#result'), new RegExp(`Created in \\d+\\.\\d s: ${name} with system-assigned \\+ 1 user-assigned`));
  await screenshot(page, 'create-Uniform-8-created');

  // grant a role to the new identity: PrincipalNotFound while it replicates, retried with a countdown
  await page.click('#grant-open');
  await page.locator('#grant-roles .choice').first().waitFor();
  await page.selectOption('#grant-principal', { index: 1 });
  assert.match(await page.locator('#grant-principal option:checked').innerText(), /id-created/);
  await page.fill('#grant-role-search', 'reader');
  const roles = await page.$$eval('#grant-roles .choice', (c) => c.map((x) => x.dataset.role));
  assert.ok(roles.length >= 1 && roles.every((r) => /reader/i.test(r)), `roles: ${roles}`);
  assert.equal(roles[0], 'Reader', 'a name starting with the query comes first');
  await page.check('#grant-roles .choice[data-role="Reader"] input');
  await page.check('#grant-scope-resource-group');
  const grantReq = await page.locator('#grant-requests pre').innerText();
  assert.match(grantReq, new RegExp(`^PUT https://management\\.azure\\.com/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft\\.Authorization/roleAssignments/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\\?api-version=`));
  const grantBody = JSON.parse(grantReq.slice(grantReq.indexOf('\n{')));
  assert.equal(grantBody.properties.principalType, 'ServicePrincipal');
  assert.match(grantBody.properties.roleDefinitionId, /\/roleDefinitions\/acdd72a7-3385-48ef-bd42-f606fba81ae7$/);
  assert.match(await page.locator('#grant-script-panel pre').innerText(), /New-AzRoleAssignment[\s\S]*-ObjectType ServicePrincipal|New-AzRoleAssignment/);
  await page.locator('#grant-tab-cli-bash').click();
  assert.match(await page.locator('#grant-script-panel pre').innerText(), /az role assignment create/);
  await screenshot(page, 'create-Uniform-9-grant-review');
  await page.click('#grant-apply');
  await page.locator('#grant-countdown').waitFor({ timeout: 15_000 });
  assert.match(await text(page, '#grant-countdown'), /PrincipalNotFound[\s\S]*retrying in \d+ s/);
  const s1 = Number(await page.getAttribute('#grant-countdown', 'data-seconds'));
  await page.waitForFunction((s) => Number(document.querySelector('#grant-countdown')?.dataset.seconds) < s, s1, { timeout: 5_000 });
  await screenshot(page, 'create-Uniform-10-grant-countdown');
  await page.locator('#grant-result').waitFor({ timeout: 60_000 });
  assert.match(await text(page, '#grant-result'), /Role assignment created: \/subscriptions\/.*\/roleAssignments\//);
  await screenshot(page, 'create-Uniform-11-granted');

  // the new scale set's own page reads it back
  await page.click('#open-created');
  await page.locator('#facts').waitFor();
  assert.equal(await text(page, '#resource-name'), name);
  assert.match(await text(page, '#kind'), /Uniform/);
  assert.equal(await text(page, '#identity-summary'), 'system-assigned + 1 user-assigned');
  assert.match(await text(page, '#system-assigned'), /^Enabled\. Principal id [0-9a-f-]{36}/);
  const uas = await page.$$eval('#user-assigned tbody tr', (rows) => rows.map((r) => [r.querySelector('th').textContent, r.querySelectorAll('td')[1].textContent]));
  assert.equal(uas.length, 1);
  assert.equal(uas[0][0], 'id-created');
  assert.match(uas[0][1], /^[0-9a-f-]{36}$/, 'the new identity has a client id');
  await screenshot(page, 'create-Uniform-12-resource-page');
});

test('Flexible + system-assigned is refused with the reason; user-assigned only is accepted', async (t) => {
  const { page } = await open(t);
  await fillToIdentity(page, { name: 'vmss-flex-new', orchestration: 'Flexible' });
  assert.equal(await page.isChecked('#create-sa'), true);
  assert.match(await text(page, '#create-sa-error'), /Flexible scale set accepts only user-assigned identities/);
  await page.click('#create-next');
  assert.equal(await step(page), 'identity', 'the step does not advance');
  await screenshot(page, 'create-Flexible-5-refused');
  await page.uncheck('#create-sa');
  assert.match(await text(page, '#create-sa-error'), /at least one/);
  const existing = page.locator('#create-ua .choice input').first();
  await existing.waitFor();
  await existing.check();
  assert.equal(await page.locator('#create-sa-error').count(), 0);
  await page.click('#create-next');
  assert.equal(await step(page), 'review');
  const req = await page.locator('#requests pre').innerText();
  const body = JSON.parse(req.slice(req.indexOf('\n{')));
  assert.equal(body.identity.type, 'UserAssigned');
  assert.equal(body.properties.orchestrationMode, 'Flexible');
  await screenshot(page, 'create-Flexible-6-review');
  // going back to Uniform is possible from the step list
  await page.click('#create-steps li[data-step="instances"] button');
  assert.equal(await step(page), 'instances');
});

test('create a user-assigned identity inline from the assign wizard: it appears selected', async (t) => {
  const { page } = await open(t);
  const id = `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web`;
  await page.goto(`${demo.server.url.replace(/\/$/, '')}${id}?wizard=assign-user-assigned`);
  await page.locator('#choices .choice').first().waitFor();
  await page.click('#inline-create summary');
  await page.locator('#uai-group option[value="rg-web"]').waitFor({ state: 'attached' });
  assert.equal(await page.inputValue('#uai-group'), 'rg-web', 'the group of the scale set is preselected');
  await page.fill('#uai-name', '-bad');
  assert.match(await text(page, '#uai-name-error'), /start/);
  await page.fill('#uai-name', 'id-inline');
  assert.match(await page.locator('#uai-requests pre').innerText(), /^PUT .*\/userAssignedIdentities\/id-inline\?/);
  assert.match(await page.locator('#uai-script-panel pre').innerText(), /New-AzUserAssignedIdentity/);
  await page.check('#read-write');
  await screenshot(page, 'create-inline-1-form');
  await page.click('#uai-create');
  await page.locator('#uai-result').waitFor();
  await page.locator('#choices .choice[data-id$="/id-inline" i] input:checked').waitFor({ timeout: 10_000 });
  await screenshot(page, 'create-inline-2-selected');
  await page.click('#to-review');
  const rows = await page.$$eval('#diff tbody tr', (r) => r.map((x) => `${x.querySelector('th').textContent}:${x.dataset.change}`));
  assert.ok(rows.includes('id-inline:added'), `${rows}`);
});

test('Windows: the password is checked against the complexity rules, sent, and never shown or put into a script', async (t) => {
  const { page } = await open(t);
  const secret = 'Tr1cky-Pa$$word';
  await page.goto(demo.server.url);
  await page.click('li[data-slug="create-scale-set"] a:text-is("Create a scale set")');
  await choose(page, '#create-subscription', SUB);
  await choose(page, '#create-group', 'rg-web');
  await page.fill('#create-name', 'vmsswin');
  await choose(page, '#create-location', 'westeurope');
  await page.click('#create-next');
  await page.check('#image-windows');
  await choose(page, '#create-size', 'Standard_B2s');
  await page.click('#create-next');
  const subnets = await page.$$eval('#create-subnet option', (o) => o.map((x) => x.value).filter(Boolean));
  await page.selectOption('#create-subnet', subnets[0]);
  await page.click('#create-next');
  assert.equal(await step(page), 'admin');
  assert.equal(await page.locator('#create-ssh').count(), 0, 'no SSH key for Windows');
  assert.equal(await page.getAttribute('#create-password', 'type'), 'password');
  await page.fill('#create-password', 'short');
  assert.match(await text(page, '#create-password-error'), /12-123 characters/);
  await page.fill('#create-password', 'alllowercaseletters');
  assert.match(await text(page, '#create-password-error'), /three of/);
  await page.fill('#create-password', secret);
  await screenshot(page, 'create-Windows-4-admin');
  await page.click('#create-next');
  await page.click('#create-next');
  assert.equal(await step(page), 'review');
  const req = await page.locator('#requests pre').innerText();
  const body = JSON.parse(req.slice(req.indexOf('\n{')));
  assert.equal(body.properties.virtualMachineProfile.storageProfile.imageReference.publisher, 'MicrosoftWindowsServer');
  assert.match(body.properties.virtualMachineProfile.osProfile.adminPassword, /never shown/);
  for (const tab of await page.$$eval('#scripts [role=tab]', (els) => els.map((e) => e.id))) {
    await page.click(`#${tab}`);
    const script = await page.locator('#script-panel pre').innerText();
    assert.ok(!script.includes(secret), `${tab} must not contain the password`);
  }
  assert.ok(!(await page.content()).includes(secret), 'the password is nowhere in the page');
  await screenshot(page, 'create-Windows-6-review');
});

test('create a Linux VM with system-assigned + a new user-assigned identity: same steps, its PUT, its page', async (t) => {
  const { page } = await open(t);
  const name = 'vm-created';
  await page.goto(demo.server.url);
  await page.click('li[data-slug="create-scale-set"] a:text-is("Create a VM")');
  await page.waitForURL(/\/create\/vm$/);
  assert.equal(await text(page, '#create-title'), 'Create a VM with an identity');
  assert.equal(await step(page), 'basics');
  await choose(page, '#create-subscription', SUB);
  await choose(page, '#create-group', 'rg-web');
  await page.fill('#create-name', name);
  await choose(page, '#create-location', 'westeurope');
  await page.click('#create-next');
  assert.equal(await step(page), 'instances');
  // a VM: image and size only
  assert.equal(await page.locator('#create-capacity').count(), 0);
  assert.equal(await page.locator('#orchestration-group').count(), 0);
  assert.equal(await page.locator('#upgrade-group').count(), 0);
  await page.check('#image-ubuntu');
  await choose(page, '#create-size', 'Standard_B2s');
  await screenshot(page, 'create-vm-2-instances');
  await page.click('#create-next');
  assert.equal(await step(page), 'network');
  const subnets = await page.$$eval('#create-subnet option', (o) => o.map((x) => x.value).filter(Boolean));
  const web = subnets.find((s) => s.endsWith('/subnets/snet-web'));
  assert.ok(web, `subnets of VNets in the region: ${subnets}`);
  await page.selectOption('#create-subnet', web);
  await page.click('#create-next');
  assert.equal(await step(page), 'admin');
  await page.fill('#create-ssh', SSH);
  await page.click('#create-next');
  assert.equal(await step(page), 'identity');
  assert.equal(await page.isChecked('#create-sa'), true, 'system-assigned is allowed on a VM');
  await page.fill('#create-new-identity', 'id-vm-created');
  await page.click('#create-next');
  assert.equal(await step(page), 'review');

  // the identity's PUT first, then the VM's PUT with If-None-Match: * and both identities
  assert.match(await text(page, '#outcome'), /^2 request\(s\) will be sent/);
  const reqs = await page.$$eval('#uai-requests pre, #requests pre', (p) => p.map((x) => x.textContent));
  assert.equal(reqs.length, 2);
  assert.match(reqs[0], /^PUT \S+\/userAssignedIdentities\/id-vm-created\?api-version=/);
  assert.match(reqs[1], new RegExp(`^PUT https://management\\.azure\\.com/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft\\.Compute/virtualMachines/${name}\\?api-version=`));
  assert.match(reqs[1], /^If-None-Match: \*$/m);
  const body = JSON.parse(reqs[1].slice(reqs[1].indexOf('\n{')));
  assert.equal(body.identity.type, 'SystemAssigned, UserAssigned');
  assert.deepEqual(Object.keys(body.identity.userAssignedIdentities).map((k) => k.split('/').pop()), ['id-vm-created']);
  assert.equal(body.properties.hardwareProfile.vmSize, 'Standard_B2s');
  assert.equal(body.properties.networkProfile.networkApiVersion, '2020-11-01');
  assert.equal(body.properties.networkProfile.networkInterfaceConfigurations[0].properties.ipConfigurations[0].properties.subnet.id, web);
  assert.equal(body.properties.osProfile.computerName, name);
  assert.equal(body.properties.osProfile.linuxConfiguration.ssh.publicKeys[0].keyData, SSH);
  // the VM's scripts: Az PowerShell builds it with New-AzNetworkInterface + New-AzVMConfig -IdentityType …
  // New-AzVM -IfNoneMatch '*', az vm create assigns both identities, az rest is the exact PUT
  const vmScripts = page.locator('#scripts');
  const ps = await vmScripts.locator('pre').innerText();
  assert.match(ps, /^\$nic = New-AzNetworkInterface /m);
  assert.match(ps, /^\$vm = New-AzVMConfig -VMName \$vmName -VMSize 'Standard_B2s' -IdentityType SystemAssignedUserAssigned -IdentityId \$identityIds$/m);
  assert.match(ps, /^New-AzVM -ResourceGroupName \$resourceGroupName -Location \$location -VM \$vm -IfNoneMatch '\*'$/m);
  await vmScripts.locator('#tab-cli-bash').click();
  const cli = await vmScripts.locator('pre').innerText();
  assert.match(cli, new RegExp(`az vm create .*--name '${name}'`));
  assert.match(cli, /--assign-identity '\[system\]' '[^']*\/userAssignedIdentities\/id-vm-created'/);
  await vmScripts.locator('#tab-cli-rest-bash').click();
  const rest = await vmScripts.locator('pre').innerText();
  assert.match(rest, new RegExp(`az rest --method put --url '[^']*/virtualMachines/${name}\\?api-version=[^']*' --headers '\\{"If-None-Match":"\\*"\\}'`));
  assert.equal(await page.isDisabled('#apply'), true, 'read-only by default');
  await screenshot(page, 'create-vm-6-review');

  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#result').waitFor({ timeout: 60_000 });
  assert.match(await text(page, '#result'), new RegExp(`Created in \\d+\\.\\d s: ${name} with system-assigned \\+ 1 user-assigned`));
  assert.equal(await text(page, '#open-created'), 'Open the new VM');
  await screenshot(page, 'create-vm-8-created');

  // the VM's own page reads its identities back
  await page.click('#open-created');
  await page.locator('#facts').waitFor();
  assert.equal(await text(page, '#resource-name'), name);
  assert.match(await text(page, '#kind'), /VM|virtual machine/i);
  assert.equal(await text(page, '#identity-summary'), 'system-assigned + 1 user-assigned');
  assert.match(await text(page, '#system-assigned'), /^Enabled\. Principal id [0-9a-f-]{36}/);
  const uas = await page.$$eval('#user-assigned tbody tr', (rows) => rows.map((r) => r.querySelector('th').textContent));
  assert.deepEqual(uas, ['id-vm-created']);
  await screenshot(page, 'create-vm-9-resource-page');
});

test('a Windows VM: the computer-name rule (1-15) blocks the step, and the password is sent but never shown or scripted', async (t) => {
  const { page } = await open(t);
  const secret = 'Vm-Tr1cky-Pa$$word';
  await page.goto(`${demo.server.url.replace(/\/$/, '')}/create/vm`);
  await choose(page, '#create-subscription', SUB);
  await choose(page, '#create-group', 'rg-web');
  await page.fill('#create-name', 'vm-windows-too-long');
  await choose(page, '#create-location', 'westeurope');
  await page.click('#create-next');
  assert.equal(await step(page), 'instances');
  await page.check('#image-windows');
  await choose(page, '#create-size', 'Standard_B2s');
  await page.click('#create-next');
  assert.equal(await step(page), 'instances', 'a 19-character Windows computer name blocks the step');
  assert.match(await text(page, '#create-name-error'), /1-15/);
  await page.click('#create-steps li[data-step="basics"] button');
  await page.fill('#create-name', 'vmwin01');
  await page.click('#create-next');
  await page.click('#create-next');
  const subnets = await page.$$eval('#create-subnet option', (o) => o.map((x) => x.value).filter(Boolean));
  await page.selectOption('#create-subnet', subnets[0]);
  await page.click('#create-next');
  assert.equal(await step(page), 'admin');
  await page.fill('#create-password', secret);
  await page.click('#create-next');
  await page.click('#create-next');
  assert.equal(await step(page), 'review');
  const req = await page.locator('#requests pre').innerText();
  assert.match(req, /\/virtualMachines\/vmwin01\?api-version=/);
  const body = JSON.parse(req.slice(req.indexOf('\n{')));
  assert.equal(body.identity.type, 'SystemAssigned');
  assert.equal(body.properties.osProfile.computerName, 'vmwin01');
  assert.match(body.properties.osProfile.adminPassword, /never shown/);
  for (const tab of await page.$$eval('#scripts [role=tab]', (els) => els.map((e) => e.id))) {
    await page.click(`#${tab}`);
    const script = await page.locator('#script-panel pre').innerText();
    assert.ok(!script.includes(secret), `${tab} must not contain the password`);
  }
  assert.ok(!(await page.content()).includes(secret), 'the password is nowhere in the page');
  await page.check('#read-write');
  await page.click('#apply');
  await page.locator('#result').waitFor({ timeout: 60_000 });
  assert.match(await text(page, '#result'), /: vmwin01 with system-assigned/);
  await screenshot(page, 'create-vm-windows-created');
});
