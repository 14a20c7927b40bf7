//! The ready-made CI jobs of docs/ci/ run as far as they can offline: their
//! own YAML is read, and each command they run is run with bash on sample
//! files in a Git clone whose `origin` has the base branch, as on a pull
//! request. Only the steps that install driftwall or call other services
//! (upload-sarif) are left out; what they would consume is checked instead.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{Scratch, git, root, skip};

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A clone with the sample files on `main` at `origin`, and a commit on a
/// branch that opens telnet: the pull request.
fn pull_request(name: &str) -> Option<(Scratch, PathBuf)> {
    if !Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        skip("git is not installed");
        return None;
    }
    let dir = Scratch::new(name);
    let upstream = dir.join("upstream");
    std::fs::create_dir_all(upstream.join("firewall")).unwrap();
    std::fs::create_dir_all(upstream.join("policies")).unwrap();
    std::fs::copy(
        root().join("examples/web-server.rules"),
        upstream.join("firewall/web.rules"),
    )
    .unwrap();
    std::fs::copy(
        root().join("examples/web-server.nft"),
        upstream.join("firewall/web.nft"),
    )
    .unwrap();
    std::fs::copy(
        root().join("examples/web-server.policy.yaml"),
        upstream.join("policies/web-server.policy.yaml"),
    )
    .unwrap();
    git(&upstream, &["init", "-q"]);
    git(&upstream, &["add", "."]);
    git(&upstream, &["commit", "-qm", "firewall"]);
    git(&dir, &["clone", "-q", "upstream", "work"]);
    let work = dir.join("work");
    git(&work, &["checkout", "-qb", "open-telnet"]);
    let rules = std::fs::read_to_string(work.join("firewall/web.rules"))
        .unwrap()
        .replace(
            "-A INPUT -p udp",
            "-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT\n-A INPUT -p udp",
        );
    std::fs::write(work.join("firewall/web.rules"), rules).unwrap();
    git(&work, &["commit", "-qam", "open telnet"]);
    Some((dir, work))
}

/// Runs a job's script with bash, driftwall on the PATH.
fn run(dir: &Path, script: &str, env: &[(String, String)]) -> (i32, String, String) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_driftwall"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-e", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("bash");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn env_of(map: &Value) -> Vec<(String, String)> {
    map.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            )
        })
        .collect()
}

/// The line of `file` (in `dir`) holding `needle`, 1-based.
fn line_of(dir: &Path, file: &str, needle: &str) -> usize {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn the_github_workflow_runs_on_a_pull_request() {
    let Some((_scratch, work)) = pull_request("gha") else {
        return;
    };
    let wf = yaml("docs/ci/github-actions.yml");
    let job = &wf["jobs"]["firewall"];
    let mut env = env_of(&job["env"]);
    let summary = work.join("step-summary.md");
    env.push(("GITHUB_STEP_SUMMARY".into(), summary.display().to_string()));
    env.push(("GITHUB_EVENT_NAME".into(), "pull_request".into()));
    let mut ran = Vec::new();
    for step in job["steps"].as_array().unwrap() {
        let name = step["name"].as_str().unwrap_or("");
        let Some(script) = step["run"].as_str() else {
            // An action: only upload-sarif, which needs the SARIF file.
            let uses = step["uses"].as_str().unwrap();
            if uses.starts_with("github/codeql-action/upload-sarif") {
                let sarif = work.join(step["with"]["sarif_file"].as_str().unwrap());
                let v: Value = serde_json::from_str(
                    &std::fs::read_to_string(&sarif).expect("the SARIF to upload exists"),
                )
                .unwrap();
                assert_eq!(v["version"], "2.1.0");
                assert_eq!(step["if"], "always()", "uploaded even when the check fails");
                ran.push("upload".to_string());
            }
            continue;
        };
        if name == "Install driftwall" {
            continue;
        }
        // Expressions as GitHub fills them in on a pull request into main.
        let script = script.replace("${{ github.base_ref }}", "main");
        if let Some(cond) = step["if"].as_str() {
            assert!(
                cond.contains("always()"),
                "{name}: a step after the check must run when the check fails: {cond}"
            );
        }
        let (code, out, err) = run(&work, &script, &env);
        match name {
            "Check the firewall files" => {
                // The sample's HTTPS rule fails: the job fails, with an
                // annotation on the line, and the SARIF is written.
                assert_eq!(code, 1, "{out}{err}");
                let line = line_of(&work, "firewall/web.rules", "192.0.2.0/24");
                assert!(out.contains(&format!("::error file=firewall/web.rules,line={line},col=1,title=web-server/https-open")), "{out}");
                let nft = line_of(&work, "firewall/web.nft", "$partner tcp dport 443");
                assert!(
                    out.contains(&format!("::error file=firewall/web.nft,line={nft},col=3,")),
                    "{out}"
                );
            }
            "Requirements this pull request breaks" => {
                assert_eq!(code, 1, "{out}{err}");
                let line = line_of(&work, "firewall/web.rules", "--dport 23");
                let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error")).collect();
                assert_eq!(errors.len(), 1, "only what the pull request broke: {out}");
                assert!(errors[0].starts_with(&format!("::error file=firewall/web.rules,line={line},col=1,title=web-server/telnet-closed pass -> fail")), "{out}");
            }
            other => panic!("a step the test does not know: {other}"),
        }
        ran.push(name.to_string());
    }
    assert_eq!(
        ran,
        [
            "Check the firewall files",
            "Requirements this pull request breaks",
            "upload"
        ]
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("## driftwall check")
            && md.contains("## driftwall diff")
            && md.contains("**FAIL**"),
        "{md}"
    );
}

#[test]
fn the_gitlab_jobs_run_on_a_merge_request() {
    let Some((_scratch, work)) = pull_request("gitlab") else {
        return;
    };
    let ci = yaml("docs/ci/gitlab-ci.yml");
    let mut env = env_of(&ci["variables"]);
    env.push(("CI_PIPELINE_SOURCE".into(), "merge_request_event".into()));
    env.push(("CI_MERGE_REQUEST_TARGET_BRANCH_NAME".into(), "main".into()));
    // What the check job must fail: every requirement failing on the branch,
    // as the JSON report has it (the sample's HTTPS rule and telnet among them).
    let (_, json, _) = run(
        &work,
        "driftwall check $POLICIES --format json $FIREWALL_FILES",
        &env,
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    let failing: Vec<String> = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["results"].as_array().unwrap())
        .filter(|r| r["status"] != "pass")
        .map(|r| r["requirement"].as_str().unwrap().to_string())
        .collect();
    assert!(
        failing.contains(&"https-open".to_string())
            && failing.contains(&"telnet-closed".to_string()),
        "{failing:?}"
    );
    for (job, broken) in [
        ("driftwall", failing),
        ("driftwall-diff", vec!["telnet-closed".to_string()]),
    ] {
        let j = &ci[job];
        assert_eq!(j["extends"], ".driftwall");
        // The script runs as GitLab runs it: line by line, stopping at the first failure.
        let script: Vec<&str> = j["script"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let (code, out, err) = run(&work, &script.join("\n"), &env);
        assert_eq!(code, 1, "{job}: {out}{err}");
        assert!(
            out.contains("requirement results") || out.contains("->"),
            "{job}: the human report is in the log: {out}"
        );
        assert_eq!(j["artifacts"]["when"], "always");
        let report = work.join(j["artifacts"]["reports"]["junit"].as_str().unwrap());
        let xml = std::fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("{job}: {}: {e}", report.display()));
        let failed: Vec<&str> = xml
            .split("<testcase ")
            .skip(1)
            .filter(|c| c.contains("<failure"))
            .map(|c| c.split('"').nth(1).unwrap())
            .collect();
        let failed: Vec<&str> = failed
            .iter()
            .map(|n| n.split(':').next().unwrap())
            .collect();
        assert_eq!(failed, broken, "{job}: {xml}");
    }
}
