//! `Microsoft.Resources/deployments`: the template engine (expressions, parameters, variables, copy loops,
//! dependency order, outputs), its asynchronous status and ARM's error shapes; and the marketplace image
//! catalog `az vm|vmss create` reads first.

use armsim::{Fault, SimConfig, SimRequest, SimResponse};
use common::{SUB1, T, rg, ua};
use serde_json::{Value, json};

mod common;

const RAPI: &str = "2024-11-01";

impl T {
    fn new() -> T {
        T::demo_at(
            SimConfig {
                lro_delay_ms: 10_000,
                ..SimConfig::default()
            },
            1_780_000_000_000,
        )
    }
    fn req(&mut self, r: SimRequest) -> SimResponse {
        self.now += 100;
        self.sim.handle(r, self.now)
    }
    fn get(&mut self, path: &str, api: &str) -> SimResponse {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.req(SimRequest::new(
            "GET",
            &format!("{path}{sep}api-version={api}"),
        ))
    }
    fn deploy(&mut self, name: &str, template: Value, parameters: Value) -> SimResponse {
        let body = json!({"properties": {"mode": "Incremental", "template": template, "parameters": parameters}});
        self.req(SimRequest::new("PUT", &format!("{}?api-version={RAPI}", dep(name))).json(&body))
    }
    /// Follows the deployment's `Azure-AsyncOperation` once now and once after every operation has ended.
    fn poll(&mut self, r: &SimResponse) -> (Value, Value) {
        let url = r
            .header("Azure-AsyncOperation")
            .expect("Azure-AsyncOperation")
            .to_string();
        let early = self.req(SimRequest::new("GET", &url)).json();
        self.now += 11_000;
        let late = self.req(SimRequest::new("GET", &url));
        assert_eq!(late.status, 200, "{}", late.body);
        (early, late.json())
    }
}

fn dep(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Resources/deployments/{name}",
        rg(SUB1, "rg-web")
    )
}

fn code(r: &SimResponse) -> String {
    r.json()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn tpl(resources: Value) -> Value {
    json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0", "parameters": {}, "variables": {}, "resources": resources, "outputs": {}})
}

const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

/// A template in the shape az sends, with the expressions resolved through parameters (given, default, secure),
/// variables that use variables, `concat`, `resourceId`, `reference(…, 'Full')`, `providers(…).apiVersions[0]`:
/// the resources are created in dependency order (not template order), the VM is the same as one a direct PUT
/// makes (system-assigned principal, user-assigned map filled in once its operation ends), the role assignment
/// gets the VM's principal, and the outputs are evaluated and named in camel case.
#[test]
fn a_template_creates_its_resources_in_dependency_order_with_expressions_evaluated() {
    let mut t = T::new();
    let id_web = ua("rg-identity", "id-web");
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "vmName": {"type": "string"},
            "prefix": {"type": "string", "defaultValue": "10.20"},
            "adminPassword": {"type": "securestring"}
        },
        "variables": {
            "vnetName": "[concat(parameters('vmName'), '-vnet')]",
            "subnetId": "[concat(resourceId('Microsoft.Network/virtualNetworks', variables('vnetName')), '/subnets/default')]"
        },
        "resources": [
            {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
             "name": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
             "dependsOn": ["[concat('Microsoft.Compute/virtualMachines/', parameters('vmName'))]"],
             "properties": {
                "roleDefinitionId": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
                "principalId": "[reference(resourceId('Microsoft.Compute/virtualMachines', parameters('vmName')), '2024-11-01', 'Full').identity.principalId]"}},
            {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2026-04-01", "name": "[parameters('vmName')]",
             "location": "[resourceGroup().location]",
             "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', variables('vnetName'))]",
                           "[concat('Microsoft.Network/networkInterfaces/', parameters('vmName'), 'VMNic')]"],
             "identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {id_web.clone(): {}}},
             "properties": {
                "hardwareProfile": {"vmSize": "Standard_B2s"},
                "osProfile": {"computerName": "[parameters('vmName')]", "adminUsername": "azureuser",
                              "adminPassword": "[parameters('adminPassword')]"},
                "networkProfile": {"networkApiVersion": "2020-11-01", "networkInterfaceConfigurations": [
                    {"name": "nic", "properties": {"primary": true, "ipConfigurations": [
                        {"name": "ip", "properties": {"subnet": {"id": "[variables('subnetId')]"}}}]}}]}}},
            {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2016-09-01",
             "name": "[concat(parameters('vmName'), 'VMNic')]", "location": "westeurope",
             "dependsOn": ["[variables('vnetName')]"],
             "properties": {"ipConfigurations": [{"name": "ipconfig", "properties": {"subnet": {"id": "[variables('subnetId')]"}}}]}},
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-07-01", "name": "[variables('vnetName')]",
             "location": "westeurope",
             "properties": {"addressSpace": {"addressPrefixes": ["[concat(parameters('prefix'), '.0.0/16')]"]},
                            "subnets": [{"name": "default", "properties": {"addressPrefix": "[concat(parameters('prefix'), '.1.0/24')]"}}]}}
        ],
        "outputs": {
            "VM": {"type": "object", "value": "[reference(resourceId('Microsoft.Compute/virtualMachines', parameters('vmName')),providers('Microsoft.Compute', 'virtualMachines').apiVersions[0])]"},
            "NicId": {"type": "string", "value": "[resourceId('Microsoft.Network/networkInterfaces', concat(parameters('vmName'), 'VMNic'))]"},
            "literal": {"type": "string", "value": "[[not an expression]"}
        }
    });
    let r = t.deploy(
        "vm_deploy_1",
        template,
        json!({"vmName": {"value": "vm-t"}, "adminPassword": {"value": "S3cret!pass"}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let b = r.json();
    assert_eq!(b["properties"]["provisioningState"], "Accepted");
    assert_eq!(b["type"], "Microsoft.Resources/deployments");
    // parameters are echoed, the secure one without its value
    assert_eq!(
        b["properties"]["parameters"]["vmName"],
        json!({"type": "String", "value": "vm-t"})
    );
    assert_eq!(
        b["properties"]["parameters"]["prefix"],
        json!({"type": "String", "value": "10.20"})
    );
    assert_eq!(
        b["properties"]["parameters"]["adminPassword"],
        json!({"type": "SecureString"})
    );
    assert!(!r.body.contains("S3cret!pass"));
    let (early, late) = t.poll(&r);
    assert_eq!(early, json!({"status": "Running"}));
    assert_eq!(late, json!({"status": "Succeeded"}));

    // dependency order, not template order: the vnet, the NIC, the VM, the role assignment
    let ops = t
        .get(&format!("{}/operations", dep("vm_deploy_1")), RAPI)
        .json();
    let order: Vec<&str> = ops["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            o["properties"]["targetResource"]["resourceType"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        order,
        [
            "Microsoft.Network/virtualNetworks",
            "Microsoft.Network/networkInterfaces",
            "Microsoft.Compute/virtualMachines",
            "Microsoft.Authorization/roleAssignments"
        ]
    );
    assert!(
        ops["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["properties"]["provisioningState"] == "Succeeded")
    );

    // the VM is what a direct PUT makes
    let vm_id = format!(
        "{}/providers/Microsoft.Compute/virtualMachines/vm-t",
        rg(SUB1, "rg-web")
    );
    let vm = t.get(&vm_id, "2024-11-01").json();
    assert_eq!(vm["properties"]["provisioningState"], "Succeeded");
    assert_eq!(vm["identity"]["type"], "SystemAssigned, UserAssigned");
    let principal = vm["identity"]["principalId"].as_str().unwrap().to_string();
    assert!(vm["identity"]["userAssignedIdentities"][&id_web]["clientId"].is_string());
    assert_eq!(vm["properties"]["osProfile"]["computerName"], "vm-t");
    // the template's vnet is a virtual network of armsim (its subnet referable), the NIC a stored resource
    let subnet = t.get(
        &format!(
            "{}/providers/Microsoft.Network/virtualNetworks/vm-t-vnet/subnets/default",
            rg(SUB1, "rg-web")
        ),
        "2024-07-01",
    );
    assert_eq!(subnet.status, 200, "{}", subnet.body);
    assert_eq!(subnet.json()["properties"]["addressPrefix"], "10.20.1.0/24");
    let nic = t.get(
        &format!(
            "{}/providers/Microsoft.Network/networkInterfaces/vm-tVMNic",
            rg(SUB1, "rg-web")
        ),
        "2024-07-01",
    );
    assert_eq!(nic.status, 200);
    assert_eq!(nic.json()["properties"]["provisioningState"], "Succeeded");
    // the role assignment got the VM's new principal through reference(…, 'Full')
    let ra = t.get(&format!("{}/providers/Microsoft.Authorization/roleAssignments/3f2504e0-4f89-41d3-9a0c-0305e82c3301", rg(SUB1, "rg-web")), "2022-04-01");
    assert_eq!(ra.status, 200, "{}", ra.body);
    assert_eq!(ra.json()["properties"]["principalId"], principal.as_str());

    let d = t.get(&dep("vm_deploy_1"), RAPI).json();
    let p = &d["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    // output names in camel case, as ARM gives them (az vmss create reads outputs['vmss'])
    assert_eq!(p["outputs"]["vm"]["type"], "Object");
    assert_eq!(
        p["outputs"]["vm"]["value"]["hardwareProfile"]["vmSize"],
        "Standard_B2s"
    );
    assert_eq!(p["outputs"]["nicId"]["value"], nic.json()["id"]);
    assert_eq!(p["outputs"]["literal"]["value"], "[not an expression]");
    assert_eq!(p["outputResources"].as_array().unwrap().len(), 4);
}

/// A copy loop makes one resource per index (`copyIndex()`), a dependency on the loop's name waits for all.
#[test]
fn copy_loops_expand_and_a_dependency_on_the_loop_waits_for_every_copy() {
    let mut t = T::new();
    let r = t.deploy(
        "copies",
        tpl(json!([
            {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2024-07-01", "name": "nsg",
             "location": "westeurope", "dependsOn": ["pips"]},
            {"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2024-07-01",
             "name": "[concat('pip', copyIndex(1))]", "location": "westeurope",
             "copy": {"name": "pips", "count": "[add(1, 1)]"}, "properties": {"n": "[copyIndex()]"}}
        ])),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let (_, late) = t.poll(&r);
    assert_eq!(late["status"], "Succeeded");
    let ops = t.get(&format!("{}/operations", dep("copies")), RAPI).json();
    let names: Vec<&str> = ops["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            o["properties"]["targetResource"]["resourceName"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["pip1", "pip2", "nsg"]);
    let pip2 = t.get(
        &format!(
            "{}/providers/Microsoft.Network/publicIPAddresses/pip2",
            rg(SUB1, "rg-web")
        ),
        "2024-07-01",
    );
    assert_eq!(pip2.json()["properties"]["n"], 1);
}

/// What ARM refuses before anything is created: 400 `InvalidTemplate` with a message naming the problem.
#[test]
fn template_errors_are_400_invalid_template_and_create_nothing() {
    let nsg = |name: &str, deps: Value| {
        json!({"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2024-07-01", "name": name,
            "location": "westeurope", "dependsOn": deps})
    };
    let cases: Vec<(Value, Value, &str)> = vec![
        (
            tpl(json!([nsg("a", json!(["b"]))])),
            json!({}),
            "The resource 'b' is not defined in the template.",
        ),
        (
            tpl(json!([nsg("a", json!(["b"])), nsg("b", json!(["a"]))])),
            json!({}),
            "Circular dependency detected on resource",
        ),
        (
            tpl(json!([nsg("[listKeys('x', '2020-01-01')]", json!([]))])),
            json!({}),
            "The template function 'listkeys' is not supported",
        ),
        (
            tpl(json!([nsg("[concat('a' 'b')]", json!([]))])),
            json!({}),
            "is not valid",
        ),
        (
            tpl(json!([nsg("[parameters('missing')]", json!([]))])),
            json!({}),
            "The template parameter 'missing' is not found.",
        ),
        (
            json!({"parameters": {"p": {"type": "string"}}, "resources": []}),
            json!({}),
            "The value for the template parameter 'p' is not provided.",
        ),
        (
            tpl(json!([])),
            json!({"extra": {"value": 1}}),
            "The template parameters 'extra' in the parameters file are not valid",
        ),
        (
            tpl(
                json!([{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "st", "location": "westeurope"}]),
            ),
            json!({}),
            "The resource type 'Microsoft.Storage/storageAccounts' is not simulated",
        ),
        (
            tpl(
                json!([{"type": "Microsoft.Network/loadBalancers/inboundNatRules", "apiVersion": "2024-07-01", "name": "onlyone"}]),
            ),
            json!({}),
            "is not valid for the type",
        ),
    ];
    for (i, (template, params, msg)) in cases.into_iter().enumerate() {
        let mut t = T::new();
        let r = t.deploy(&format!("bad{i}"), template, params);
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "InvalidTemplate"),
            "case {i}: {}",
            r.body
        );
        let m = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(
            m.starts_with("Deployment template validation failed: '") && m.contains(msg),
            "case {i}: {m}"
        );
        assert_eq!(
            t.get(&dep(&format!("bad{i}")), RAPI).status,
            404,
            "case {i}: no deployment is kept"
        );
        let nsg_a = t.get(
            &format!(
                "{}/providers/Microsoft.Network/networkSecurityGroups/a",
                rg(SUB1, "rg-web")
            ),
            "2024-07-01",
        );
        assert_eq!(nsg_a.status, 404, "case {i}: nothing created");
    }
    let mut t = T::new();
    let r = t.req(
        SimRequest::new("PUT", &format!("{}?api-version={RAPI}", dep("complete")))
            .json(&json!({"properties": {"mode": "Complete", "template": tpl(json!([]))}})),
    );
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "InvalidDeploymentMode")
    );
}

/// A resource that fails (refused by its own handler, or its operation ends Failed) fails the deployment with
/// ARM's `DeploymentFailed` error, whose details carry the resource's error; the resources after it are not
/// created; the operations list shows which one failed.
#[test]
fn a_failing_resource_fails_the_deployment_with_arms_error_shape() {
    let flex_sa = json!({"type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-11-01",
        "name": "vmss-bad", "location": "westeurope", "sku": {"name": "Standard_B2s", "capacity": 1},
        "identity": {"type": "SystemAssigned"}, "properties": {"orchestrationMode": "Flexible"}});
    let after = json!({"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
        "name": "id-after", "location": "westeurope", "dependsOn": ["vmss-bad"]});
    let mut t = T::new();
    let r = t.deploy("fails", tpl(json!([flex_sa, after])), json!({}));
    assert_eq!(r.status, 201, "{}", r.body);
    let (_, late) = t.poll(&r);
    assert_eq!(late["status"], "Failed");
    let e = &late["error"];
    assert_eq!(e["code"], "DeploymentFailed");
    assert_eq!(e["target"], dep("fails"));
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("At least one resource deployment operation failed.")
    );
    assert_eq!(e["details"][0]["code"], "InvalidParameter");
    let d = t.get(&dep("fails"), RAPI).json();
    assert_eq!(d["properties"]["provisioningState"], "Failed");
    assert_eq!(d["properties"]["error"], *e);
    assert!(d["properties"].get("outputs").is_none());
    let ops = t.get(&format!("{}/operations", dep("fails")), RAPI).json();
    let ops = ops["value"].as_array().unwrap();
    assert_eq!(
        ops.len(),
        1,
        "the resource after the failing one is not attempted"
    );
    assert_eq!(ops[0]["properties"]["provisioningState"], "Failed");
    assert_eq!(
        ops[0]["properties"]["statusMessage"]["error"]["code"],
        "InvalidParameter"
    );
    assert_eq!(t.get(&ua("rg-web", "id-after"), "2023-01-31").status, 404);

    // the resource's own long-running operation fails
    let mut t = T::new();
    t.sim.inject(Fault::FailOperation {
        count: 1,
        code: "AllocationFailed".into(),
        message: "No capacity.".into(),
    });
    let ok_vmss = json!({"type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-11-01",
        "name": "vmss-alloc", "location": "westeurope", "sku": {"name": "Standard_B2s", "capacity": 1},
        "identity": {"type": "SystemAssigned"}, "properties": {"orchestrationMode": "Uniform"}});
    let r = t.deploy("alloc", tpl(json!([ok_vmss])), json!({}));
    let (early, late) = t.poll(&r);
    assert_eq!(early["status"], "Running");
    assert_eq!(late["status"], "Failed");
    assert_eq!(
        late["error"]["details"],
        json!([{"code": "AllocationFailed", "message": "No capacity."}])
    );

    // an expression that fails while the resource is created (reference to nothing) fails that resource
    let mut t = T::new();
    let bad_ref = json!({"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2024-07-01",
        "name": "nsg", "location": "westeurope",
        "properties": {"x": "[reference('/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Network/publicIPAddresses/none', '2024-07-01').ipAddress]"}});
    let r = t.deploy("badref", tpl(json!([bad_ref])), json!({}));
    let (_, late) = t.poll(&r);
    assert_eq!(
        late["error"]["details"][0]["code"], "InvalidTemplate",
        "{late}"
    );
    // a second PUT of a running deployment is refused
    let r = t.deploy("running", tpl(json!([])), json!({}));
    assert_eq!(r.status, 201);
    let r = t.deploy("running", tpl(json!([])), json!({}));
    assert_eq!((r.status, code(&r).as_str()), (409, "DeploymentActive"));
}

/// The image catalog: `latest` resolves through a list ordered `name desc` with `$top=1`, the version's
/// properties give the Hyper-V generation, features and OS; unknown images are 404.
#[test]
fn marketplace_images_list_and_show() {
    let mut t = T::new();
    let base = format!(
        "/subscriptions/{SUB1}/providers/Microsoft.Compute/locations/westeurope/publishers/Canonical/artifacttypes/vmimage/offers/ubuntu-24_04-lts/skus/server/versions"
    );
    let all = t.get(&base, "2024-11-01").json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let top = t
        .get(&format!("{base}?$orderby=name%20desc&$top=1"), "2024-11-01")
        .json();
    let top = top.as_array().unwrap();
    assert_eq!(top.len(), 1);
    let v = top[0]["name"].as_str().unwrap().to_string();
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|x| x["name"].as_str().unwrap() <= v.as_str())
    );
    let shown = t.get(&format!("{base}/{v}"), "2024-11-01").json();
    assert_eq!(shown["properties"]["hyperVGeneration"], "V2");
    assert_eq!(
        shown["properties"]["osDiskImage"]["operatingSystem"],
        "Linux"
    );
    let offers = t.get(&format!("/subscriptions/{SUB1}/providers/Microsoft.Compute/locations/westeurope/publishers/MicrosoftWindowsServer/artifacttypes/vmimage/offers"), "2024-11-01").json();
    assert_eq!(offers[0]["name"], "WindowsServer");
    assert_eq!(t.get(&format!("{base}/0.0.1"), "2024-11-01").status, 404);
    assert_eq!(
        t.get(&base.replace("server", "minimal"), "2024-11-01")
            .status,
        404
    );
}

/// The deployment's resources are written as the caller: a Virtual Machine Contributor may deploy (deployments/*)
/// and create the scale set, but attaching a user-assigned identity needs assign/action on it; without it the
/// scale set is refused with the same LinkedAuthorizationFailed a direct PUT gets, and the deployment fails.
#[test]
fn a_deployments_resources_are_authorized_as_the_caller() {
    use armsim::roles::RoleGrant;
    use armsim::testing::TestIssuer;
    const BOB: &str = "0000b0b0-0000-4000-8000-000000000002";
    let issuer = TestIssuer::new(7);
    let mut t = T::demo_at(
        SimConfig {
            auth: Some(issuer.auth_config()),
            role_map: Some(vec![RoleGrant {
                principal_id: BOB.into(),
                role: "Virtual Machine Contributor".into(),
                scope: rg(SUB1, "rg-web"),
            }]),
            lro_delay_ms: 1_000,
            ..SimConfig::default()
        },
        1_780_000_000_000,
    );
    let tok = format!("Bearer {}", issuer.token(BOB, t.now / 1000));
    let vmss = |name: &str, ident: Value| {
        json!({"type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-11-01", "name": name,
            "location": "westeurope", "sku": {"name": "Standard_B2s", "capacity": 1}, "identity": ident,
            "properties": {"orchestrationMode": "Uniform"}})
    };
    let body =
        |r: Value| json!({"properties": {"mode": "Incremental", "template": tpl(json!([r]))}});
    let run = |t: &mut T, name: &str, r: Value| -> Value {
        let put = SimRequest::new("PUT", &format!("{}?api-version={RAPI}", dep(name)))
            .header("Authorization", &tok)
            .json(&body(r));
        t.now += 100;
        let r = t.sim.handle(put, t.now);
        assert_eq!(r.status, 201, "{}", r.body);
        t.now += 2_000;
        let url = r.header("Azure-AsyncOperation").unwrap().to_string();
        t.sim
            .handle(
                SimRequest::new("GET", &url).header("Authorization", &tok),
                t.now,
            )
            .json()
    };
    let ok = run(
        &mut t,
        "ok",
        vmss("vmss-sa", json!({"type": "SystemAssigned"})),
    );
    assert_eq!(ok["status"], "Succeeded", "{ok}");
    let id = ua("rg-identity", "id-batch");
    let denied = run(
        &mut t,
        "denied",
        vmss(
            "vmss-ua",
            json!({"type": "UserAssigned", "userAssignedIdentities": {id: {}}}),
        ),
    );
    assert_eq!(denied["status"], "Failed");
    assert_eq!(
        denied["error"]["details"][0]["code"], "LinkedAuthorizationFailed",
        "{denied}"
    );
}
