//! Marketplace images (`Microsoft.Compute/locations/{l}/publishers/{p}/artifacttypes/vmimage/offers/{o}/skus/{s}/versions[/{v}]`):
//! a small built-in catalog with the images the generated create scripts name, enough for `az vmss|vm create
//! --image <URN>` to resolve `latest` (a list ordered `name desc`, `$top=1`) and read the version (Hyper-V
//! generation, features, OS). Not recorded: the versions, features and sizes are plausible values in the shape
//! of Compute's `VirtualMachineImage`; the same catalog answers for every location the seed names.

use super::errors::no_route;
use super::{Call, R, Sim, ok};
use crate::error::ArmError;
use serde_json::{Value, json};

/// One image sku of the catalog: publisher, offer, sku, OS, Hyper-V generation, versions (ascending).
struct CatalogImage {
    publisher: &'static str,
    offer: &'static str,
    sku: &'static str,
    os: &'static str,
    generation: &'static str,
    versions: &'static [&'static str],
}

const CATALOG: &[CatalogImage] = &[
    CatalogImage {
        publisher: "Canonical",
        offer: "ubuntu-24_04-lts",
        sku: "server",
        os: "Linux",
        generation: "V2",
        versions: &["24.04.202409120", "24.04.202410170"],
    },
    CatalogImage {
        publisher: "MicrosoftWindowsServer",
        offer: "WindowsServer",
        sku: "2022-datacenter-azure-edition",
        os: "Windows",
        generation: "V2",
        versions: &["20348.2700.240906", "20348.2762.241006"],
    },
];

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn imgs(p: &str) -> impl Iterator<Item = &'static CatalogImage> + '_ {
    CATALOG.iter().filter(move |i| eq(i.publisher, p))
}

impl Sim {
    /// `rest` = `[publishers, {p}, artifacttypes, vmimage, offers, {o}, skus, {s}, versions[, {v}]]` (from the
    /// request, original case), after `/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/`.
    pub(super) fn image_route(&self, c: Call<'_>, sub: &str, loc: &str, rest: &[String]) -> R {
        let Call { m, t, .. } = c;
        super::errors::only(m, &["GET"])?;
        crate::apiver::check(
            crate::apiver::Family::Compute,
            t.param("api-version"),
            "locations/publishers",
            loc,
        )?;
        if !self.locations.iter().any(|l| eq(&l.name, loc)) {
            return Err(ArmError::new(
                404,
                "NoRegisteredProviderFound",
                format!("No registered resource provider found for location '{loc}'."),
            ));
        }
        let lc: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
        let lcs: Vec<&str> = lc.iter().map(String::as_str).collect();
        let base =
            format!("/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{loc}/Publishers");
        let item = |name: &str, id: String| json!({"location": loc, "name": name, "id": id});
        let not_found = || {
            ArmError::new(
                404,
                "NotFound",
                "Artifact: VMImage was not found.".to_string(),
            )
        };
        let list = |mut v: Vec<(String, String)>| -> R {
            // `$orderby=name desc` and `$top` as Compute's list takes them (names compared as text)
            v.sort_by_key(|a| a.0.to_ascii_lowercase());
            v.dedup_by(|a, b| eq(&a.0, &b.0));
            if t.param("$orderby")
                .is_some_and(|o| o.to_ascii_lowercase().replace("%20", " ") == "name desc")
            {
                v.reverse();
            }
            if let Some(n) = t.param("$top").and_then(|n| n.parse::<usize>().ok()) {
                v.truncate(n);
            }
            let out: Vec<Value> = v.into_iter().map(|(n, id)| item(&n, id)).collect();
            Ok(ok(200, &Value::Array(out)))
        };
        match lcs.as_slice() {
            ["publishers"] => list(
                CATALOG
                    .iter()
                    .map(|i| (i.publisher.to_string(), format!("{base}/{}", i.publisher)))
                    .collect(),
            ),
            ["publishers", p, "artifacttypes", "vmimage", "offers"] => list(
                imgs(p)
                    .map(|i| {
                        let id = format!(
                            "{base}/{}/ArtifactTypes/VMImage/Offers/{}",
                            i.publisher, i.offer
                        );
                        (i.offer.to_string(), id)
                    })
                    .collect(),
            ),
            [
                "publishers",
                p,
                "artifacttypes",
                "vmimage",
                "offers",
                o,
                "skus",
            ] => list(
                imgs(p)
                    .filter(|i| eq(i.offer, o))
                    .map(|i| {
                        let id = format!(
                            "{base}/{}/ArtifactTypes/VMImage/Offers/{}/Skus/{}",
                            i.publisher, i.offer, i.sku
                        );
                        (i.sku.to_string(), id)
                    })
                    .collect(),
            ),
            [
                "publishers",
                p,
                "artifacttypes",
                "vmimage",
                "offers",
                o,
                "skus",
                s,
                "versions",
                tail @ ..,
            ] => {
                let img = imgs(p)
                    .find(|i| eq(i.offer, o) && eq(i.sku, s))
                    .ok_or_else(not_found)?;
                let id = |v: &str| {
                    format!(
                        "{base}/{}/ArtifactTypes/VMImage/Offers/{}/Skus/{}/Versions/{v}",
                        img.publisher, img.offer, img.sku
                    )
                };
                match tail {
                    [] => list(
                        img.versions
                            .iter()
                            .map(|v| (v.to_string(), id(v)))
                            .collect(),
                    ),
                    [_] => {
                        let v = img
                            .versions
                            .iter()
                            .find(|v| eq(v, &rest[9]))
                            .ok_or_else(not_found)?;
                        let mut b = item(v, id(v));
                        b["properties"] = json!({
                            "hyperVGeneration": img.generation,
                            "architecture": "x64",
                            "replicaType": "Unmanaged",
                            "disallowed": {"vmDiskType": "Unmanaged"},
                            "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": img.os == "Windows"},
                            "imageDeprecationStatus": {"imageState": "Active"},
                            "features": [
                                {"name": "SecurityType", "value": "TrustedLaunchSupported"},
                                {"name": "IsAcceleratedNetworkSupported", "value": "True"},
                                {"name": "DiskControllerTypes", "value": "SCSI, NVMe"},
                            ],
                            "osDiskImage": {"operatingSystem": img.os, "sizeInGb": if img.os == "Windows" { 127 } else { 30 }},
                            "dataDiskImages": [],
                        });
                        Ok(ok(200, &b))
                    }
                    _ => Err(no_route(t)),
                }
            }
            _ => Err(no_route(t)),
        }
    }
}
