//! The idiomatic forms of a create plan. A scale set: the `New-AzVmssConfig … -IdentityType …`
//! chain with `New-AzVmss` (Az PowerShell) and `az vmss create --assign-identity …` (Azure CLI).
//! A VM: `az vm create --assign-identity …` (Azure CLI) and `New-AzNetworkInterface` with the
//! `New-AzVMConfig … -IdentityType …` chain and `New-AzVM` (Az PowerShell, see [`vm_az_powershell`]).
//!
//! Both are derived from the plan's PUT body (the very request the app sends), so they cannot
//! drift from it; what a tool cannot express exactly is said in a comment of the script.

use super::cli::{AZ_CLI_MIN_VERSION, check_exit, kv};
use super::quote::{ps_single, sh_single};
use super::*;
use serde_json::Value;

/// The parts of a scale set's `virtualMachineProfile` and of a VM's `properties` that are the
/// same: credentials, image, OS disk, the one NIC configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Profile {
    pub network_api_version: Option<String>,
    pub admin_username: String,
    /// `Some(disablePasswordAuthentication)` for Linux.
    pub linux_disable_password: Option<bool>,
    /// `(path, keyData)` of each SSH public key.
    pub ssh_keys: Vec<(String, String)>,
    /// `(provisionVMAgent, enableAutomaticUpdates)` for Windows.
    pub windows: Option<(bool, bool)>,
    /// The body carries an admin password (the slot; the scripts read it at run time).
    pub password: bool,
    pub image: (String, String, String, String),
    pub os_disk_create: String,
    pub os_disk_caching: Option<String>,
    pub os_disk_storage: Option<String>,
    pub nic_name: String,
    pub nic_primary: Option<bool>,
    pub ip_config_name: String,
    pub subnet_id: String,
}

/// The parts of a create-scale-set body the scripts express. `None` when the body has a shape
/// the generators do not know (they then fall back to the exact PUT).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VmssModel {
    pub location: String,
    pub sku_name: String,
    pub sku_tier: Option<String>,
    pub capacity: u64,
    pub orchestration: String,
    pub overprovision: Option<bool>,
    pub fault_domains: Option<u64>,
    pub upgrade_mode: String,
    pub computer_name_prefix: String,
    pub p: Profile,
}

/// The parts of a create-VM body the scripts express (`None` as for [`VmssModel`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VmModel {
    pub location: String,
    pub size: String,
    pub computer_name: String,
    pub p: Profile,
}

fn s(v: &Value, p: &str) -> Option<String> {
    v.pointer(p)?.as_str().map(str::to_string)
}

fn b(v: &Value, p: &str) -> Option<bool> {
    v.pointer(p)?.as_bool()
}

/// Keys the models express, by JSON pointer; anything else makes `from_body` return `None`, so
/// that no script silently drops a part of the body.
type Known = &'static [(&'static str, &'static [&'static str])];

const PROFILE_KEYS: &[&str] = &[
    "adminUsername",
    "adminPassword",
    "linuxConfiguration",
    "windowsConfiguration",
];

const KNOWN_VMSS: Known = &[
    ("", &["identity", "location", "sku", "properties"]),
    (
        "/properties",
        &[
            "orchestrationMode",
            "overprovision",
            "platformFaultDomainCount",
            "upgradePolicy",
            "virtualMachineProfile",
        ],
    ),
    (
        "/properties/virtualMachineProfile",
        &["osProfile", "storageProfile", "networkProfile"],
    ),
    (
        "/properties/virtualMachineProfile/networkProfile",
        &["networkApiVersion", "networkInterfaceConfigurations"],
    ),
];

const KNOWN_VM: Known = &[
    ("", &["identity", "location", "properties"]),
    (
        "/properties",
        &[
            "hardwareProfile",
            "osProfile",
            "storageProfile",
            "networkProfile",
        ],
    ),
    ("/properties/hardwareProfile", &["vmSize"]),
    (
        "/properties/networkProfile",
        &["networkApiVersion", "networkInterfaceConfigurations"],
    ),
];

fn only_known(body: &Value, known: Known, os: &str, name_key: &str) -> Option<()> {
    for (p, keys) in known {
        let o = body.pointer(p)?.as_object()?;
        if o.keys().any(|k| !keys.contains(&k.as_str())) {
            return None;
        }
    }
    let o = body.pointer(os)?.as_object()?;
    if o.keys()
        .any(|k| k != name_key && !PROFILE_KEYS.contains(&k.as_str()))
    {
        return None;
    }
    Some(())
}

impl Profile {
    /// Read from the object at `at` (`/properties/virtualMachineProfile` or `/properties`).
    fn read(body: &Value, at: &str) -> Option<Self> {
        let os = format!("{at}/osProfile");
        let nics = body
            .pointer(&format!(
                "{at}/networkProfile/networkInterfaceConfigurations"
            ))?
            .as_array()?;
        let [nic] = nics.as_slice() else {
            return None;
        };
        let ipcs = nic.pointer("/properties/ipConfigurations")?.as_array()?;
        let [ipc] = ipcs.as_slice() else {
            return None;
        };
        let linux = body.pointer(&format!("{os}/linuxConfiguration"));
        let mut ssh_keys = Vec::new();
        if let Some(keys) = linux.and_then(|l| l.pointer("/ssh/publicKeys")) {
            for k in keys.as_array()? {
                ssh_keys.push((s(k, "/path")?, s(k, "/keyData")?));
            }
        }
        let windows = body
            .pointer(&format!("{os}/windowsConfiguration"))
            .map(|w| {
                (
                    b(w, "/provisionVMAgent").unwrap_or(true),
                    b(w, "/enableAutomaticUpdates").unwrap_or(true),
                )
            });
        let img = format!("{at}/storageProfile/imageReference");
        let disk = format!("{at}/storageProfile/osDisk");
        Some(Profile {
            network_api_version: s(body, &format!("{at}/networkProfile/networkApiVersion")),
            admin_username: s(body, &format!("{os}/adminUsername"))?,
            linux_disable_password: linux
                .map(|l| b(l, "/disablePasswordAuthentication").unwrap_or(false)),
            ssh_keys,
            windows,
            password: body.pointer(&format!("{os}/adminPassword")).is_some(),
            image: (
                s(body, &format!("{img}/publisher"))?,
                s(body, &format!("{img}/offer"))?,
                s(body, &format!("{img}/sku"))?,
                s(body, &format!("{img}/version"))?,
            ),
            os_disk_create: s(body, &format!("{disk}/createOption"))?,
            os_disk_caching: s(body, &format!("{disk}/caching")),
            os_disk_storage: s(body, &format!("{disk}/managedDisk/storageAccountType")),
            nic_name: s(nic, "/name")?,
            nic_primary: b(nic, "/properties/primary"),
            ip_config_name: s(ipc, "/name")?,
            subnet_id: s(ipc, "/properties/subnet/id")?,
        })
    }

    fn urn(&self) -> String {
        let (p, o, s, v) = &self.image;
        format!("{p}:{o}:{s}:{v}")
    }
}

impl VmssModel {
    pub(crate) fn from_body(body: &Value) -> Option<Self> {
        let vmp = "/properties/virtualMachineProfile";
        let os = format!("{vmp}/osProfile");
        only_known(body, KNOWN_VMSS, &os, "computerNamePrefix")?;
        Some(VmssModel {
            location: s(body, "/location")?,
            sku_name: s(body, "/sku/name")?,
            sku_tier: s(body, "/sku/tier"),
            capacity: body.pointer("/sku/capacity")?.as_u64()?,
            orchestration: s(body, "/properties/orchestrationMode")
                .unwrap_or_else(|| "Uniform".into()),
            overprovision: b(body, "/properties/overprovision"),
            fault_domains: body
                .pointer("/properties/platformFaultDomainCount")
                .and_then(Value::as_u64),
            upgrade_mode: s(body, "/properties/upgradePolicy/mode")?,
            computer_name_prefix: s(body, &format!("{os}/computerNamePrefix"))?,
            p: Profile::read(body, vmp)?,
        })
    }
}

impl VmModel {
    pub(crate) fn from_body(body: &Value) -> Option<Self> {
        only_known(body, KNOWN_VM, "/properties/osProfile", "computerName")?;
        Some(VmModel {
            location: s(body, "/location")?,
            size: s(body, "/properties/hardwareProfile/vmSize")?,
            computer_name: s(body, "/properties/osProfile/computerName")?,
            p: Profile::read(body, "/properties")?,
        })
    }
}

fn ps_bool(v: bool) -> &'static str {
    if v { "$true" } else { "$false" }
}

/// The Az PowerShell chain (after sign-in): `New-AzVmssConfig -IdentityType …`, the profile
/// cmdlets, `New-AzVmss -IfNoneMatch '*'`.
pub(crate) fn az_powershell(
    m: &VmssModel,
    target: &Resource,
    after: &Identities,
    change: &Change,
) -> Vec<String> {
    let mut l = vec![
        "# Built with New-AzVmssConfig and the profile cmdlets from the very body the app PUTs (exact form: the Az PowerShell exact script).".to_string(),
        format!("$resourceGroupName = {}", ps_single(&target.resource_group)),
        format!("$vmssName = {}", ps_single(&target.name)),
    ];
    let mut cfg = format!(
        "$vmssConfig = New-AzVmssConfig -Location {} -SkuName {}",
        ps_single(&m.location),
        ps_single(&m.sku_name)
    );
    if let Some(t) = &m.sku_tier {
        cfg.push_str(&format!(" -SkuTier {}", ps_single(t)));
    }
    cfg.push_str(&format!(
        " -SkuCapacity {} -UpgradePolicyMode {} -OrchestrationMode {}",
        m.capacity,
        ps_single(&m.upgrade_mode),
        ps_single(&m.orchestration)
    ));
    if let Some(o) = m.overprovision {
        cfg.push_str(&format!(" -Overprovision {}", ps_bool(o)));
    }
    if let Some(n) = m.fault_domains {
        cfg.push_str(&format!(" -PlatformFaultDomainCount {n}"));
    }
    if after.system || !after.user.is_empty() {
        // -IdentityType takes the enum member name (SystemAssignedUserAssigned), not the ARM string.
        cfg.push_str(&format!(" -IdentityType {}", after.ps_enum()));
        if !after.user.is_empty() {
            l.extend(super::powershell::ps_array("identityIds", &after.user));
            cfg.push_str(" -IdentityId $identityIds");
        }
    }
    l.push(cfg);

    // OS profile
    let mut osp = format!(
        "$vmssConfig = Set-AzVmssOsProfile -VirtualMachineScaleSet $vmssConfig -ComputerNamePrefix {} -AdminUsername {}",
        ps_single(&m.computer_name_prefix),
        ps_single(&m.p.admin_username)
    );
    if m.p.password {
        l.extend(super::rest::ps_read_password(change).into_iter().take(2));
        l.push("# Set-AzVmssOsProfile takes -AdminPassword as a plain String: it is converted here, at run time, and never written into the script.".into());
        l.push(
            "$adminPasswordPlain = [System.Net.NetworkCredential]::new('', $adminPassword).Password"
                .into(),
        );
        osp.push_str(" -AdminPassword $adminPasswordPlain");
    }
    if let Some(d) = m.p.linux_disable_password {
        osp.push_str(&format!(
            " -LinuxConfigurationDisablePasswordAuthentication {}",
            ps_bool(d)
        ));
    }
    if let Some((agent, updates)) = m.p.windows {
        osp.push_str(&format!(
            " -WindowsConfigurationProvisionVMAgent {} -WindowsConfigurationEnableAutomaticUpdate {}",
            ps_bool(agent),
            ps_bool(updates)
        ));
    }
    l.push(osp);
    for (path, key) in &m.p.ssh_keys {
        l.push(format!(
            "$vmssConfig = Add-AzVmssSshPublicKey -VirtualMachineScaleSet $vmssConfig -Path {} -KeyData {}",
            ps_single(path),
            ps_single(key)
        ));
    }

    // storage profile
    let (p, o, sk, v) = &m.p.image;
    let mut sp = format!(
        "$vmssConfig = Set-AzVmssStorageProfile -VirtualMachineScaleSet $vmssConfig -ImageReferencePublisher {} -ImageReferenceOffer {} -ImageReferenceSku {} -ImageReferenceVersion {} -OsDiskCreateOption {}",
        ps_single(p),
        ps_single(o),
        ps_single(sk),
        ps_single(v),
        ps_single(&m.p.os_disk_create)
    );
    if let Some(c) = &m.p.os_disk_caching {
        sp.push_str(&format!(" -OsDiskCaching {}", ps_single(c)));
    }
    if let Some(t) = &m.p.os_disk_storage {
        sp.push_str(&format!(" -ManagedDisk {}", ps_single(t)));
    }
    l.push(sp);

    // network profile
    l.push(format!(
        "$ipConfig = New-AzVmssIpConfig -Name {} -SubnetId {}",
        ps_single(&m.p.ip_config_name),
        ps_single(&m.p.subnet_id)
    ));
    let mut nic = format!(
        "$vmssConfig = Add-AzVmssNetworkInterfaceConfiguration -VirtualMachineScaleSet $vmssConfig -Name {}",
        ps_single(&m.p.nic_name)
    );
    if let Some(pr) = m.p.nic_primary {
        nic.push_str(&format!(" -Primary {}", ps_bool(pr)));
    }
    nic.push_str(" -IpConfiguration $ipConfig");
    l.push(nic);
    if let Some(nv) = &m.p.network_api_version {
        l.push("# A Flexible scale set needs networkProfile.networkApiVersion; no cmdlet parameter sets it, so it is set on the object.".into());
        l.push(format!(
            "$vmssConfig.VirtualMachineProfile.NetworkProfile.NetworkApiVersion = {}",
            ps_single(nv)
        ));
    }
    l.push("# -IfNoneMatch '*': like the app's If-None-Match, an existing scale set of that name is never overwritten (412 instead).".into());
    l.push("# Still different from the PUT: New-AzVmss sends the object built here with Az.Compute's own api-version, and without -SecurityType".into());
    l.push("# it enables Trusted Launch (securityProfile TrustedLaunch, secure boot, vTPM: New-AzVmss help, example 6), which the PUT does not set.".into());
    l.push("New-AzVmss -ResourceGroupName $resourceGroupName -VMScaleSetName $vmssName -VirtualMachineScaleSet $vmssConfig -IfNoneMatch '*'".into());
    l
}

/// `az vmss create` (after sign-in), for bash or PowerShell.
pub(crate) fn cli(
    m: &VmssModel,
    target: &Resource,
    after: &Identities,
    lang: Language,
) -> Vec<String> {
    let q = |s: &str| match lang {
        Language::Bash => sh_single(s),
        Language::PowerShell => ps_single(s),
    };
    // `--flag=` with an empty value, one word: Windows PowerShell 5.1 drops an empty '' argument
    // to a native command, which would make the next word the value.
    let empty = |flag: &str| q(&format!("{flag}="));
    let mut l = vec![
        "# az vmss create deploys an ARM template built from these options; they are chosen to give the body the app PUTs.".to_string(),
        "# --lb= --public-ip-address=: no load balancer and no public IP (the PUT has neither); the subnet is given by id (an existing one, nothing is created).".into(),
        "# Still different from the PUT:".into(),
        "#   - no If-None-Match: an existing scale set of this name would be updated by the deployment instead of refused, so the".into(),
        "#     script stops first if one exists; this check-then-create is not atomic (one created in between is still".into(),
        "#     updated), the exact REST script (az rest, If-None-Match: *) is;".into(),
        format!(
            "#   - az names the NIC and IP configuration from the name's first 5 characters ('-' removed) and a hash of the id (…Nic / …IPConfig), not '{}' / '{}';",
            comment_safe(&m.p.nic_name),
            comment_safe(&m.p.ip_config_name)
        ),
        "#   - the request is a Microsoft.Resources/deployments PUT (mode Incremental) whose template holds only the scale set, with".into(),
        "#     az's own Compute api-version; its status is polled, then az reads the scale set back.".into(),
        format!("# Observed with azure-cli {AZ_CLI_MIN_VERSION} (run against the armsim simulator): the template's scale set has the PUT's identity"),
        "# (type spelled 'SystemAssigned,UserAssigned'), no securityProfile (az's Trusted Launch default is not applied), no sku.tier,".into(),
        "# primary as the string \"true\"; a failing resource fails the deployment and az exits non-zero.".into(),
    ];
    let mut a = vec![
        "az vmss create".to_string(),
        kv(lang, "--resource-group", &target.resource_group),
        kv(lang, "--name", &target.name),
        kv(lang, "--location", &m.location),
        kv(lang, "--orchestration-mode", &m.orchestration),
        kv(lang, "--vm-sku", &m.sku_name),
        format!("--instance-count {}", m.capacity),
        kv(lang, "--image", &m.p.urn()),
        kv(lang, "--subnet", &m.p.subnet_id),
        empty("--lb"),
        empty("--public-ip-address"),
        "--accelerated-networking false".into(),
        kv(lang, "--upgrade-policy-mode", &m.upgrade_mode),
        kv(lang, "--computer-name-prefix", &m.computer_name_prefix),
        kv(lang, "--admin-username", &m.p.admin_username),
    ];
    profile_args(&m.p, "vmss", lang, &mut l, &mut a);
    if m.overprovision == Some(false) {
        a.push("--disable-overprovision".into());
    }
    if let Some(n) = m.fault_domains {
        a.push(format!("--platform-fault-domain-count {n}"));
    }
    if let Some(nv) = &m.p.network_api_version {
        a.push(kv(lang, "--network-api-version", nv));
    }
    windows_and_identity_args(&m.p, after, lang, &mut a);
    l.extend(create_then_show(
        lang,
        "vmss",
        target,
        &format!(
            "A scale set named '{}' already exists in resource group '{}': az vmss create would update it instead of creating a new one. Choose another name.",
            target.name, target.resource_group
        ),
        a,
    ));
    l
}

/// The credential and OS disk options (`az vmss create` and `az vm create` alike).
fn profile_args(
    p: &Profile,
    group: &str,
    lang: Language,
    l: &mut Vec<String>,
    a: &mut Vec<String>,
) {
    if p.password {
        l.push(format!("# az {group} create asks for the admin password itself (Admin Password:, twice) when --admin-password is not given:"));
        l.push("# the password is never in the script, on disk or in a command line.".into());
        a.push("--authentication-type password".into());
    } else {
        a.push("--authentication-type ssh".into());
    }
    if !p.ssh_keys.is_empty() {
        let keys: Vec<String> = p.ssh_keys.iter().map(|(_, k)| quote_for(lang, k)).collect();
        a.push(format!("--ssh-key-values {}", keys.join(" ")));
    }
    if let Some(t) = &p.os_disk_storage {
        a.push(kv(lang, "--storage-sku", t));
    }
    if let Some(c) = &p.os_disk_caching {
        a.push(kv(lang, "--os-disk-caching", c));
    }
}

/// `--enable-agent … --enable-auto-update …` (Windows) and `--assign-identity …`.
fn windows_and_identity_args(p: &Profile, after: &Identities, lang: Language, a: &mut Vec<String>) {
    if let Some((agent, updates)) = p.windows {
        a.push(format!(
            "--enable-agent {agent} --enable-auto-update {updates}"
        ));
    }
    if after.system || !after.user.is_empty() {
        let mut ids: Vec<String> = Vec::new();
        if after.system {
            // quoted: a bare [system] is a glob pattern in bash
            ids.push(quote_for(lang, "[system]"));
        }
        ids.extend(after.user.iter().map(|u| quote_for(lang, u)));
        a.push(format!("--assign-identity {}", ids.join(" ")));
    }
}

fn quote_for(lang: Language, s: &str) -> String {
    match lang {
        Language::Bash => sh_single(s),
        Language::PowerShell => ps_single(s),
    }
}

/// Stop if the resource exists (`az {group} create` sends no If-None-Match), create it, show its
/// identity.
fn create_then_show(
    lang: Language,
    group: &str,
    target: &Resource,
    exists: &str,
    args: Vec<String>,
) -> Vec<String> {
    let names = format!(
        "{} {}",
        kv(lang, "--resource-group", &target.resource_group),
        kv(lang, "--name", &target.name)
    );
    let mut l = super::cli::stop_if_exists(lang, &format!("az {group} show {names}"), exists);
    l.push(args.join(" "));
    l.extend(check_exit(lang));
    l.push(format!("az {group} identity show {names}"));
    l.extend(check_exit(lang));
    l
}

/// `az vm create` (after sign-in), for bash or PowerShell.
pub(crate) fn vm_cli(
    m: &VmModel,
    target: &Resource,
    after: &Identities,
    lang: Language,
) -> Vec<String> {
    let empty = |flag: &str| quote_for(lang, &format!("{flag}="));
    let mut l = vec![
        "# az vm create deploys an ARM template built from these options; they are chosen to give the body the app PUTs.".to_string(),
        "# --public-ip-address= --nsg=: no public IP and no network security group (the PUT has neither); the subnet is given by id (an existing one).".into(),
        "# Still different from the PUT:".into(),
        "#   - no If-None-Match: the script stops first if a VM of this name exists (az vm create checks too); this".into(),
        "#     check-then-create is not atomic, the exact REST script (az rest, If-None-Match: *) is;".into(),
        format!(
            "#   - az creates a separate NIC resource ({0}VMNic) and references it in networkProfile.networkInterfaces; the PUT has no NIC",
            comment_safe(&target.name)
        ),
        format!(
            "#     resource: Compute creates the NIC from networkInterfaceConfigurations '{}' (networkApiVersion {});",
            comment_safe(&m.p.nic_name),
            comment_safe(m.p.network_api_version.as_deref().unwrap_or("-"))
        ),
        "#   - the request is a Microsoft.Resources/deployments PUT (mode Incremental) whose template holds the NIC (Network".into(),
        "#     api-version 2016-09-01) and the VM (az's own Compute api-version, dependsOn the NIC); its status is polled, then az".into(),
        "#     reads the VM (with its instance view) and the NIC back;".into(),
        "#   - the computer name is the VM's name (az has no option for it), as in the PUT.".into(),
        format!("# Observed with azure-cli {AZ_CLI_MIN_VERSION} (run against the armsim simulator): the template's VM has the PUT's identity"),
        "# (type spelled 'SystemAssigned,UserAssigned'), no securityProfile (az's Trusted Launch default is not applied), osDisk".into(),
        "# createOption 'fromImage'; a failing resource fails the deployment and az exits non-zero.".into(),
    ];
    let mut a = vec![
        "az vm create".to_string(),
        kv(lang, "--resource-group", &target.resource_group),
        kv(lang, "--name", &target.name),
        kv(lang, "--location", &m.location),
        kv(lang, "--size", &m.size),
        kv(lang, "--image", &m.p.urn()),
        kv(lang, "--subnet", &m.p.subnet_id),
        empty("--public-ip-address"),
        empty("--nsg"),
        "--accelerated-networking false".into(),
        kv(lang, "--admin-username", &m.p.admin_username),
    ];
    if m.computer_name != target.name {
        l.push(format!(
            "# NOTE: the PUT's computer name '{}' differs from the VM name; az vm create uses the VM name.",
            comment_safe(&m.computer_name)
        ));
    }
    profile_args(&m.p, "vm", lang, &mut l, &mut a);
    windows_and_identity_args(&m.p, after, lang, &mut a);
    l.extend(create_then_show(
        lang,
        "vm",
        target,
        &format!(
            "A virtual machine named '{}' already exists in resource group '{}': choose another name.",
            target.name, target.resource_group
        ),
        a,
    ));
    l
}

/// `try { $x = <get> -ResourceGroupName … -Name … -ErrorAction Stop } catch { NotFound → none }`,
/// then stop with `message` if it exists.
fn ps_stop_if_exists(var: &str, get: &str, rg: &str, name: &str, message: &str) -> Vec<String> {
    vec![
        format!("${var} = $null"),
        format!(
            "try {{ ${var} = {get} -ResourceGroupName {} -Name {} -ErrorAction Stop }}",
            ps_single(rg),
            ps_single(name)
        ),
        "catch { if (\"$_\" -notmatch 'NotFound|not found|was not found') { throw } }".into(),
        format!("if (${var}) {{ throw {} }}", ps_single(message)),
    ]
}

/// The Az PowerShell form of a create-VM plan (after sign-in): `New-AzNetworkInterface` (the NIC
/// as a resource: no cmdlet parameter sets a NIC *configuration*), `New-AzVMConfig -IdentityType
/// …`, `Set-AzVMOperatingSystem` (+ `Add-AzVMSshPublicKey`), `Set-AzVMSourceImage`,
/// `Set-AzVMOSDisk`, `Add-AzVMNetworkInterface`, `New-AzVM -IfNoneMatch '*'`. The exact PUT stays
/// available as the exact REST script.
pub(crate) fn vm_az_powershell(
    m: &VmModel,
    target: &Resource,
    after: &Identities,
    change: &Change,
) -> Vec<String> {
    let rg = &target.resource_group;
    let mut l = vec![
        "# Built with New-AzVMConfig and the profile cmdlets from the very body the app PUTs (exact form: the Az PowerShell exact script).".to_string(),
        "# Different from the PUT: the PUT lets Azure create the NIC from networkProfile.networkInterfaceConfigurations (deleted".into(),
        format!(
            "# with the VM); no cmdlet parameter sets a NIC configuration, so this chain creates a NIC resource named '{}'",
            comment_safe(&m.p.nic_name)
        ),
        "# (New-AzNetworkInterface, in the plan's subnet) and attaches it by id: it outlives the VM unless deleted.".into(),
        format!("$resourceGroupName = {}", ps_single(rg)),
        format!("$vmName = {}", ps_single(&target.name)),
        format!("$location = {}", ps_single(&m.location)),
        format!("$nicName = {}", ps_single(&m.p.nic_name)),
        "# New-AzNetworkInterface has no -IfNoneMatch (-Force would overwrite a NIC of that name) and the NIC is made before".into(),
        "# New-AzVM runs: so the script stops first if the VM or the NIC exists (not atomic; New-AzVM -IfNoneMatch '*' is).".into(),
    ];
    l.extend(ps_stop_if_exists(
        "existingVm",
        "Get-AzVM",
        rg,
        &target.name,
        &format!(
            "A virtual machine named '{}' already exists in resource group '{rg}': choose another name.",
            target.name
        ),
    ));
    l.extend(ps_stop_if_exists(
        "existingNic",
        "Get-AzNetworkInterface",
        rg,
        &m.p.nic_name,
        &format!(
            "A network interface named '{}' already exists in resource group '{rg}': New-AzNetworkInterface would overwrite it. Delete it or choose another VM.",
            m.p.nic_name
        ),
    ));
    l.push(format!(
        "$nic = New-AzNetworkInterface -Name $nicName -ResourceGroupName $resourceGroupName -Location $location -SubnetId {} -IpConfigurationName {}",
        ps_single(&m.p.subnet_id),
        ps_single(&m.p.ip_config_name)
    ));

    let mut cfg = format!(
        "$vm = New-AzVMConfig -VMName $vmName -VMSize {}",
        ps_single(&m.size)
    );
    if after.system || !after.user.is_empty() {
        // -IdentityType takes the enum member name (SystemAssignedUserAssigned), not the ARM string.
        cfg.push_str(&format!(" -IdentityType {}", after.ps_enum()));
        if !after.user.is_empty() {
            l.extend(super::powershell::ps_array("identityIds", &after.user));
            cfg.push_str(" -IdentityId $identityIds");
        }
    }
    l.push(cfg);

    // OS profile: the admin user and password travel as a PSCredential.
    if m.p.password {
        l.extend(super::rest::ps_read_password(change).into_iter().take(2));
    } else {
        l.push("# No password (SSH keys only): Set-AzVMOperatingSystem takes the user name in a credential; its password is one".into());
        l.push("# space, as in Microsoft's Linux VM quickstart, and -DisablePasswordAuthentication keeps it unused.".into());
        l.push("$adminPassword = [System.Security.SecureString]::new()".into());
        l.push("$adminPassword.AppendChar(' ')".into());
    }
    l.push(format!(
        "$adminUsername = {}",
        ps_single(&m.p.admin_username)
    ));
    l.push(
        "$adminCredential = [System.Management.Automation.PSCredential]::new($adminUsername, $adminPassword)"
            .into(),
    );
    let mut osp = format!(
        "$vm = Set-AzVMOperatingSystem -VM $vm -{} -ComputerName {} -Credential $adminCredential",
        if m.p.windows.is_some() {
            "Windows"
        } else {
            "Linux"
        },
        ps_single(&m.computer_name)
    );
    if m.p.linux_disable_password == Some(true) {
        osp.push_str(" -DisablePasswordAuthentication");
    }
    if let Some((agent, updates)) = m.p.windows {
        osp.push_str(if agent {
            " -ProvisionVMAgent"
        } else {
            " -DisableVMAgent"
        });
        if updates {
            osp.push_str(" -EnableAutoUpdate");
        }
    }
    l.push(osp);
    for (path, key) in &m.p.ssh_keys {
        l.push(format!(
            "$vm = Add-AzVMSshPublicKey -VM $vm -KeyData {} -Path {}",
            ps_single(key),
            ps_single(path)
        ));
    }

    // storage profile
    let (p, o, sk, v) = &m.p.image;
    l.push(format!(
        "$vm = Set-AzVMSourceImage -VM $vm -PublisherName {} -Offer {} -Skus {} -Version {}",
        ps_single(p),
        ps_single(o),
        ps_single(sk),
        ps_single(v)
    ));
    let mut disk = format!(
        "$vm = Set-AzVMOSDisk -VM $vm -CreateOption {}",
        ps_single(&m.p.os_disk_create)
    );
    if let Some(c) = &m.p.os_disk_caching {
        disk.push_str(&format!(" -Caching {}", ps_single(c)));
    }
    if let Some(t) = &m.p.os_disk_storage {
        disk.push_str(&format!(" -StorageAccountType {}", ps_single(t)));
    }
    l.push(disk);

    // network profile
    let mut nic = "$vm = Add-AzVMNetworkInterface -VM $vm -Id $nic.Id".to_string();
    if m.p.nic_primary == Some(true) {
        nic.push_str(" -Primary");
    }
    l.push(nic);
    if m.p.network_api_version.is_some() {
        l.push("# networkProfile.networkApiVersion belongs to NIC configurations; with a NIC resource attached by id it is not set.".into());
    }
    l.push("# -IfNoneMatch '*': like the app's If-None-Match, an existing VM of that name is never overwritten (412 instead).".into());
    l.push("# Still different from the PUT: New-AzVM sends the object built here with Az.Compute's own api-version and may add".into());
    l.push("# its defaults (e.g. Trusted Launch for an image that supports it: see New-AzVM help), which the PUT does not set.".into());
    l.push("New-AzVM -ResourceGroupName $resourceGroupName -Location $location -VM $vm -IfNoneMatch '*'".into());
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::create::*;
    use crate::resource::UpgradeMode;

    fn spec() -> ScaleSetSpec {
        ScaleSetSpec {
            subscription: "00000000-0000-0000-0000-000000000000".into(),
            resource_group: "rg".into(),
            name: "vmss1".into(),
            location: "westeurope".into(),
            orchestration: Orchestration::Uniform,
            sku: "Standard_B2s".into(),
            capacity: 3,
            image: ImagePreset::UbuntuLts,
            subnet_id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s".into(),
            admin_username: "azureuser".into(),
            admin_auth: AdminAuth::SshPublicKey("ssh-ed25519 AAAAC3Nza me@host".into()),
            upgrade_mode: UpgradeMode::Automatic,
            identity: IdentityRequest {
                system_assigned: true,
                user_assigned: vec![],
            },
        }
    }

    #[test]
    fn the_model_reads_every_part_of_the_body() {
        let body = spec().body();
        let m = VmssModel::from_body(&body).unwrap();
        assert_eq!(m.capacity, 3);
        assert_eq!(m.upgrade_mode, "Automatic");
        assert_eq!(m.p.linux_disable_password, Some(true));
        assert_eq!(m.p.ssh_keys.len(), 1);
        assert_eq!(m.overprovision, Some(false));
        assert_eq!(m.fault_domains, None);
        assert!(!m.p.password);
    }

    /// A body with a part the generators do not express is not modelled, so the idiomatic
    /// flavours fall back to the exact PUT instead of silently dropping it.
    #[test]
    fn an_unknown_part_of_the_body_falls_back_to_the_exact_put() {
        for (ptr, key) in [
            ("", "zones"),
            ("/properties", "singlePlacementGroup"),
            ("/properties/virtualMachineProfile", "extensionProfile"),
            ("/properties/virtualMachineProfile/osProfile", "customData"),
            (
                "/properties/virtualMachineProfile/networkProfile",
                "healthProbe",
            ),
        ] {
            let mut body = spec().body();
            body.pointer_mut(ptr).unwrap()[key] = serde_json::json!("x");
            assert_eq!(VmssModel::from_body(&body), None, "{ptr}/{key}");
            let s = spec();
            let mut plan = create_scale_set(&s);
            if let crate::plan::Outcome::Requests(r) = &mut plan.outcome {
                r[0].body = Some(body);
            }
            let sp = ScriptPlan::from_scale_set(Cloud::AzureCloud, &s, &plan);
            let ps = generate(&sp, Flavour::AzPowerShell).text;
            assert!(!ps.contains("= New-AzVmssConfig"), "{key}");
            assert!(ps.contains("Invoke-RestMethod -Method Put"), "{key}");
            let sh = generate(&sp, Flavour::CliBash).text;
            assert!(
                !sh.lines().any(|l| l.starts_with("az vmss create")),
                "{key}"
            );
            assert!(sh.contains("az rest --method put"), "{key}");
        }
    }

    /// azure-cli reads a value starting with `@` as a file (`@-`: standard input), also as `--x=@value`, with no
    /// escape: the az scripts then send the exact PUT (the body on standard input in PowerShell, never as an
    /// option value) and wait by the resource's id; Az PowerShell still builds the idiomatic chain.
    #[test]
    fn a_value_az_reads_as_a_file_falls_back_to_the_exact_put() {
        let cases: [fn(&mut ScaleSetSpec); 4] = [
            |s| s.name = "@-".into(),
            |s| s.resource_group = "@rg".into(),
            |s| s.location = "@westeurope".into(),
            |s| s.admin_username = "@admin".into(),
        ];
        for (i, set) in cases.iter().enumerate() {
            let mut s = spec();
            let plan = create_scale_set(&s);
            set(&mut s);
            let mut plan = plan;
            if let crate::plan::Outcome::Requests(r) = &mut plan.outcome {
                r[0].path = s.id().as_str().to_string();
                r[0].body = Some(s.body());
            }
            let sp = ScriptPlan::from_scale_set(Cloud::AzureCloud, &s, &plan);
            for f in [Flavour::CliBash, Flavour::CliPowerShell] {
                let t = generate(&sp, f).text;
                assert!(!t.contains("az vmss create"), "{i} {f:?}\n{t}");
                assert!(t.contains("az rest --method put"), "{i} {f:?}\n{t}");
                assert!(t.contains("az reads as a file name"), "{i} {f:?}");
                // no argument starting with @ but the body's standard input
                for line in t.lines().filter(|l| {
                    let l = l.trim_start();
                    l.starts_with("az ") || l.contains("| az ") || l.contains("$(az ")
                }) {
                    let rest = line.replace("--body @-", "").replace("--body '@-'", "");
                    assert!(
                        !rest.contains(" @") && !rest.contains(" '@") && !rest.contains("=@"),
                        "{i} {f:?}: {line}"
                    );
                }
                if s.name.starts_with('@') || s.resource_group.starts_with('@') {
                    assert!(
                        t.contains("az vmss wait --ids '/subscriptions/"),
                        "{i} {f:?}\n{t}"
                    );
                }
            }
            let ps = generate(&sp, Flavour::AzPowerShell).text;
            assert!(ps.contains("= New-AzVmssConfig"), "{i}");
        }
    }

    /// The same for a VM: the New-AzVMConfig chain is not generated for a body it would not
    /// carry whole; the Az PowerShell flavour is then the exact PUT.
    #[test]
    fn an_unknown_part_of_a_vm_body_falls_back_to_the_exact_put() {
        let s = VmSpec {
            subscription: "00000000-0000-0000-0000-000000000000".into(),
            resource_group: "rg".into(),
            name: "vm1".into(),
            location: "westeurope".into(),
            size: "Standard_B2s".into(),
            image: ImagePreset::UbuntuLts,
            subnet_id: spec().subnet_id,
            admin_username: "azureuser".into(),
            admin_auth: AdminAuth::SshPublicKey("ssh-ed25519 AAAAC3Nza me@host".into()),
            identity: IdentityRequest {
                system_assigned: true,
                user_assigned: vec![],
            },
        };
        assert!(VmModel::from_body(&s.body()).is_some());
        for (ptr, key) in [
            ("", "zones"),
            ("/properties", "securityProfile"),
            ("/properties/hardwareProfile", "vmSizeProperties"),
            ("/properties/osProfile", "customData"),
            ("/properties/networkProfile", "networkInterfaces"),
        ] {
            let mut body = s.body();
            body.pointer_mut(ptr).unwrap()[key] = serde_json::json!("x");
            assert_eq!(VmModel::from_body(&body), None, "{ptr}/{key}");
            let mut plan = create_vm(&s);
            if let crate::plan::Outcome::Requests(r) = &mut plan.outcome {
                r[0].body = Some(body);
            }
            let sp = ScriptPlan::from_vm(Cloud::AzureCloud, &s, &plan);
            let ps = generate(&sp, Flavour::AzPowerShell).text;
            assert!(!ps.contains("New-AzVMConfig -VMName"), "{key}");
            assert!(!ps.contains("= New-AzNetworkInterface"), "{key}");
            assert!(ps.contains("Invoke-RestMethod -Method Put"), "{key}");
        }
    }
}
