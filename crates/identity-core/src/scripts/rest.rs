//! Az PowerShell, exact: the very method, path, api-version, headers and body the app sends.

use super::powershell::{az_sign_in, finish};
use super::quote::{json_pretty, ps_single};
use super::*;

fn method_title(m: Method) -> &'static str {
    match m {
        Method::Get => "Get",
        Method::Put => "Put",
        Method::Patch => "Patch",
        Method::Post => "Post",
        Method::Delete => "Delete",
    }
}

/// The request lines (no sign-in): used by the exact flavour and embedded in the idiomatic one
/// where no cmdlet can express the change.
pub(crate) fn exact_lines(plan: &ScriptPlan, reqs: &[ArmRequest]) -> Vec<String> {
    let mut l = Vec::new();
    let any_if_match = reqs.iter().any(|r| {
        r.headers
            .iter()
            .any(|(k, _)| !k.eq_ignore_ascii_case("Authorization"))
    });
    if any_if_match {
        l.push("# Invoke-AzRestMethod has no header parameter (it cannot send If-Match / If-None-Match), so this uses Invoke-RestMethod".into());
        l.push("# with an ARM token of the signed-in account (Get-AzAccessToken; its Token is a SecureString in Az.Accounts 5).".into());
        l.push("$arm = (Get-AzContext).Environment.ResourceManagerUrl.TrimEnd('/')".into());
        l.push("$accessToken = Get-AzAccessToken".into());
        l.push(
            "$token = [System.Net.NetworkCredential]::new('', $accessToken.Token).Password".into(),
        );
    }
    for (i, r) in reqs.iter().enumerate() {
        let n = if reqs.len() > 1 {
            format!("{}", i + 1)
        } else {
            String::new()
        };
        l.push(format!(
            "# {} {}",
            r.method.as_str(),
            comment_safe(&r.path_and_query())
        ));
        l.push(format!("$path{n} = {}", ps_single(&r.path_and_query())));
        if let Some(b) = &r.body {
            let json = json_pretty(b);
            match split_secret(&json) {
                Some((pre, post)) => {
                    l.extend(ps_read_password(&plan.change));
                    l.push(format!(
                        "$body{n} = {} + $adminPasswordJson + {}",
                        ps_single(&pre),
                        ps_single(&post)
                    ));
                }
                None => l.push(format!("$body{n} = {}", ps_single(&json))),
            }
        }
        let headers: Vec<&(String, String)> = r
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("Authorization"))
            .collect();
        if !headers.is_empty() || any_if_match {
            let mut h = String::from("@{ Authorization = \"Bearer $token\"");
            for (k, v) in headers {
                h.push_str(&format!("; {} = {}", ps_single(k), ps_single(v)));
            }
            h.push_str(" }");
            l.push(format!("$headers{n} = {h}"));
            let mut cmd = format!(
                "$response{n} = Invoke-RestMethod -Method {} -Uri ($arm + $path{n}) -Headers $headers{n}",
                method_title(r.method)
            );
            if r.body.is_some() {
                cmd.push_str(&format!(
                    " -ContentType 'application/json; charset=utf-8' -Body $body{n}"
                ));
            }
            l.push(cmd);
            if is_compute_write(r) && r.method != Method::Post {
                l.extend(ps_wait_lines(&format!("$path{n}"), ""));
                l.push("$state.identity".into());
            } else {
                l.push(format!("$response{n}"));
            }
        } else {
            let mut cmd = format!(
                "$response{n} = Invoke-AzRestMethod -Method {} -Path $path{n}",
                r.method.as_str()
            );
            if r.body.is_some() {
                cmd.push_str(&format!(" -Payload $body{n}"));
            }
            if is_compute_write(r) || r.method == Method::Delete {
                cmd.push_str(" -WaitForCompletion");
            }
            l.push(cmd);
            l.push(format!(
                "if ($response{n}.StatusCode -ge 300) {{ throw $response{n}.Content }}"
            ));
            if is_compute_write(r) || r.method == Method::Delete {
                // the final response of a Failed or Canceled operation can still be a 200
                l.push(format!(
                    "$result{n} = if ($response{n}.Content) {{ $response{n}.Content | ConvertFrom-Json }}"
                ));
                l.push(format!(
                    "if ($result{n}.status -in @('Failed', 'Canceled') -or $result{n}.properties.provisioningState -in @('Failed', 'Canceled')) {{ throw \"The change did not succeed: $($response{n}.Content)\" }}"
                ));
            }
            l.push(format!("$response{n}.Content"));
        }
    }
    l
}

pub(crate) fn az_exact(plan: &ScriptPlan) -> String {
    let mut l = header_lines(
        plan,
        "Az PowerShell, exact REST: the same method, path, api-version, headers and body the app sends",
    );
    if let Some(n) = nothing_to_send(plan, Language::PowerShell) {
        l.extend(n);
        return finish(l);
    }
    l.extend(az_sign_in(plan.cloud, subscription_of(&plan.change)));
    l.extend(exact_lines(plan, &plan.all_requests()));
    finish(super::powershell::with_requires(l))
}

/// Wait until the resource at `path_var` leaves Updating/Creating (Invoke-RestMethod does not
/// follow the long-running operation), then throw unless it ended Succeeded: a Failed or
/// Canceled change is an error, never a quiet end.
pub(crate) fn ps_wait_lines(path_var: &str, indent: &str) -> Vec<String> {
    [
        "# Invoke-RestMethod does not follow the long-running operation: wait until provisioning ends, and fail unless it succeeded.".to_string(),
        "do {".into(),
        "    Start-Sleep -Seconds 5".into(),
        format!("    $state = (Invoke-AzRestMethod -Method GET -Path {path_var}).Content | ConvertFrom-Json"),
        "} while ($state.properties.provisioningState -in @('Updating', 'Creating'))".into(),
        "$provisioningState = $state.properties.provisioningState".into(),
        "if ($provisioningState -ne 'Succeeded') {".into(),
        "    throw \"The change ended with provisioningState '$provisioningState', not Succeeded: see the activity log of the resource. $($state.error.message)\"".into(),
        "}".into(),
    ]
    .into_iter()
    .map(|line| format!("{indent}{line}"))
    .collect()
}

/// Read the admin password at run time (never written into the script) as a JSON string literal.
pub(crate) fn ps_read_password(change: &Change) -> Vec<String> {
    let user = match change {
        Change::Create { admin_username, .. } => admin_username.as_str(),
        _ => "the admin user",
    };
    vec![
        "# The admin password is read when the script runs; it is never written into the script.".into(),
        format!(
            "$adminPassword = Read-Host -AsSecureString -Prompt {}",
            ps_single(&format!("Password for {user}"))
        ),
        "# As a JSON string, every non-ASCII character as \\uXXXX: the same text whatever encoding carries it.".into(),
        "$adminPasswordJson = [regex]::Replace(([System.Net.NetworkCredential]::new('', $adminPassword).Password | ConvertTo-Json), '[^\\x00-\\x7F]', { param($m) '\\u{0:x4}' -f [int][char]$m.Value })".into(),
    ]
}
