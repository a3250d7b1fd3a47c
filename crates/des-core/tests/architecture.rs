//! The crate graph points down, and ARCHITECTURE.md's crate table says what it is.
//!
//! Every workspace crate has one layer ([`LAYERS`], the same classification as the table's
//! `layer` column). The rules, read from `cargo metadata --no-deps` (build and
//! target-specific dependencies count as normal ones):
//!
//! - a core crate depends (normal dependencies) on core crates only; its dev-dependencies
//!   are free (des-engine's tests run the real local adapters and sinks);
//! - an adapter support crate (a driver wrapper two adapters share) depends on core crates
//!   only;
//! - an adapter depends on core and adapter support crates only, and its dev-dependencies
//!   are core, adapter support or test support (the contract suites, the emulator): never
//!   another adapter, never an entry point;
//! - entry points and test support may depend on anything.
//!
//! And the table under `## Crates` in ARCHITECTURE.md has one row per workspace crate (its
//! folder, and its package name in parentheses when that differs from the folder's), its
//! layer as [`LAYERS`] has it, and a `depends on` column naming every workspace crate the
//! crate depends on (normal dependencies) and, of other crates, only real normal
//! dependencies (`azure_*` names at least one matching one).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Core,
    AdapterSupport,
    Adapter,
    EntryPoint,
    TestSupport,
}

impl Layer {
    fn name(self) -> &'static str {
        match self {
            Layer::Core => "core",
            Layer::AdapterSupport => "adapter support",
            Layer::Adapter => "adapter",
            Layer::EntryPoint => "entry point",
            Layer::TestSupport => "test support",
        }
    }
}

/// Every workspace crate by package name. A new crate fails the test until it is listed here
/// and in ARCHITECTURE.md.
const LAYERS: &[(&str, Layer)] = &[
    ("des-core", Layer::Core),
    ("des-engine", Layer::Core),
    ("des-sqlite", Layer::AdapterSupport),
    ("dataverse", Layer::Adapter),
    ("des-sinks", Layer::Adapter),
    ("des-local", Layer::Adapter),
    ("des-azure", Layer::Adapter),
    ("des-api", Layer::EntryPoint),
    ("des-cli", Layer::EntryPoint),
    ("des-handlers", Layer::EntryPoint),
    ("des-api-handler", Layer::EntryPoint),
    ("des-poller", Layer::EntryPoint),
    ("des-applier", Layer::EntryPoint),
    ("des-contract", Layer::TestSupport),
    ("dataverse-emulator", Layer::TestSupport),
    ("des-tests", Layer::TestSupport),
    ("des-handlers-tests", Layer::TestSupport),
    ("des-test-env", Layer::TestSupport),
];

fn layer(name: &str) -> Option<Layer> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

/// One workspace crate as `cargo metadata` sees it.
#[derive(Debug)]
struct Crate {
    /// Its folder relative to the workspace root, `/`-separated.
    dir: String,
    /// Normal (and build, and target-specific) dependencies, by package name.
    normal: BTreeSet<String>,
    /// Dev-dependencies, by package name.
    dev: BTreeSet<String>,
}

struct Workspace {
    root: PathBuf,
    crates: BTreeMap<String, Crate>,
}

impl Workspace {
    fn is_member(&self, name: &str) -> bool {
        self.crates.contains_key(name)
    }
}

fn workspace() -> Workspace {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    let root = PathBuf::from(metadata["workspace_root"].as_str().expect("workspace_root"));
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .map(|id| id.as_str().expect("member id"))
        .collect();
    let mut crates = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        if !members.contains(package["id"].as_str().expect("package id")) {
            continue;
        }
        let name = package["name"].as_str().expect("name").to_owned();
        let manifest = Path::new(package["manifest_path"].as_str().expect("manifest_path"));
        let dir = manifest
            .parent()
            .expect("manifest folder")
            .strip_prefix(&root)
            .expect("member under the workspace root")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let mut normal = BTreeSet::new();
        let mut dev = BTreeSet::new();
        for dependency in package["dependencies"].as_array().expect("dependencies") {
            let dependency_name = dependency["name"].as_str().expect("name").to_owned();
            match dependency["kind"].as_str() {
                Some("dev") => dev.insert(dependency_name),
                _ => normal.insert(dependency_name),
            };
        }
        crates.insert(name, Crate { dir, normal, dev });
    }
    Workspace { root, crates }
}

#[test]
fn every_workspace_crate_has_a_layer_and_every_layer_entry_is_a_crate() {
    let workspace = workspace();
    let unclassified: Vec<&String> = workspace
        .crates
        .keys()
        .filter(|name| layer(name).is_none())
        .collect();
    assert!(
        unclassified.is_empty(),
        "crates without a layer (add them to LAYERS and ARCHITECTURE.md): {unclassified:?}"
    );
    let gone: Vec<&str> = LAYERS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !workspace.is_member(name))
        .collect();
    assert!(
        gone.is_empty(),
        "LAYERS names crates not in the workspace: {gone:?}"
    );
}

#[test]
fn the_crate_graph_points_down() {
    let workspace = workspace();
    let mut wrong = Vec::new();
    for (name, krate) in &workspace.crates {
        let Some(own) = layer(name) else { continue };
        let members = |deps: &BTreeSet<String>| -> Vec<(String, Layer)> {
            deps.iter()
                .filter_map(|d| {
                    layer(d)
                        .filter(|_| workspace.is_member(d))
                        .map(|l| (d.clone(), l))
                })
                .collect()
        };
        // What its normal dependencies may be; entry points and test support are free.
        let allowed: Option<&[Layer]> = match own {
            Layer::Core | Layer::AdapterSupport => Some(&[Layer::Core]),
            Layer::Adapter => Some(&[Layer::Core, Layer::AdapterSupport]),
            Layer::EntryPoint | Layer::TestSupport => None,
        };
        if let Some(allowed) = allowed {
            for (dep, dep_layer) in members(&krate.normal) {
                if !allowed.contains(&dep_layer) {
                    wrong.push(format!(
                        "{name} ({}) depends on {dep} ({})",
                        own.name(),
                        dep_layer.name()
                    ));
                }
            }
        }
        if own == Layer::Adapter {
            for (dep, dep_layer) in members(&krate.dev) {
                if matches!(dep_layer, Layer::Adapter | Layer::EntryPoint) {
                    wrong.push(format!(
                        "{name} (adapter) has a dev-dependency on {dep} ({})",
                        dep_layer.name()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies that point up or sideways (ARCHITECTURE.md, `## Crates`):\n{}",
        wrong.join("\n")
    );
}

/// One row of ARCHITECTURE.md's crate table.
#[derive(Debug)]
struct Row {
    dir: String,
    package: Option<String>,
    layer: String,
    depends_on: Vec<String>,
}

/// The first table under `## Crates`.
fn crate_table(architecture: &str) -> Vec<Row> {
    let section = architecture
        .split_once("\n## Crates\n")
        .expect("ARCHITECTURE.md has a `## Crates` section")
        .1;
    let lines: Vec<&str> = section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .collect();
    assert!(lines.len() > 2, "the crate table has rows");
    let header = cells(lines[0]);
    assert_eq!(
        header,
        ["crate", "layer", "purpose", "depends on"],
        "the crate table's columns"
    );
    lines[2..]
        .iter()
        .map(|line| {
            let cells = cells(line);
            assert_eq!(cells.len(), 4, "four cells in {line:?}");
            let quoted = backticked(&cells[0]);
            assert!(
                (1..=2).contains(&quoted.len()),
                "the crate cell is `folder` or `folder` (`package`): {:?}",
                cells[0]
            );
            let depends_on = if cells[3] == "—" {
                Vec::new()
            } else {
                cells[3]
                    .split(',')
                    .map(|name| name.trim().trim_matches('`').to_owned())
                    .collect()
            };
            Row {
                dir: quoted[0].trim_end_matches('/').to_owned(),
                package: quoted.get(1).cloned(),
                layer: cells[1].clone(),
                depends_on,
            }
        })
        .collect()
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(|cell| cell.trim().to_owned())
        .collect()
}

fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_architecture_crate_table_lists_every_crate_with_its_layer_and_dependencies() {
    let workspace = workspace();
    let text = std::fs::read_to_string(workspace.root.join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md at the workspace root");
    let rows = crate_table(&text);
    let mut wrong = Vec::new();
    let mut listed = BTreeSet::new();
    for row in &rows {
        let Some((name, krate)) = workspace.crates.iter().find(|(_, c)| c.dir == row.dir) else {
            wrong.push(format!("`{}` is not a workspace crate's folder", row.dir));
            continue;
        };
        if !listed.insert(name.clone()) {
            wrong.push(format!("{name} has two rows"));
        }
        let folder_name = row.dir.rsplit('/').next().unwrap_or(&row.dir);
        match &row.package {
            Some(package) if package != name => {
                wrong.push(format!("`{}` holds package {name}, not {package}", row.dir));
            }
            None if folder_name != name => {
                wrong.push(format!(
                    "`{}` holds package {name}: say so as (`{name}`)",
                    row.dir
                ));
            }
            _ => {}
        }
        let expected = layer(name).map(Layer::name).unwrap_or("(none)");
        if row.layer != expected {
            wrong.push(format!(
                "{name}: layer {:?} in the table, {expected:?} in LAYERS",
                row.layer
            ));
        }
        let said_members: BTreeSet<&str> = row
            .depends_on
            .iter()
            .map(String::as_str)
            .filter(|d| workspace.is_member(d))
            .collect();
        let real_members: BTreeSet<&str> = krate
            .normal
            .iter()
            .map(String::as_str)
            .filter(|d| workspace.is_member(d))
            .collect();
        if said_members != real_members {
            wrong.push(format!(
                "{name}: the table says it depends on crates {said_members:?}, Cargo.toml on {real_members:?}"
            ));
        }
        for other in row.depends_on.iter().filter(|d| !workspace.is_member(d)) {
            let real = match other.strip_suffix('*') {
                Some(prefix) => krate.normal.iter().any(|d| d.starts_with(prefix)),
                None => krate.normal.contains(other),
            };
            if !real {
                wrong.push(format!(
                    "{name}: the table names {other}, not a dependency of it"
                ));
            }
        }
    }
    for name in workspace.crates.keys() {
        if !listed.contains(name) {
            wrong.push(format!("{name} has no row in the crate table"));
        }
    }
    assert!(
        wrong.is_empty(),
        "ARCHITECTURE.md's crate table is not true:\n{}",
        wrong.join("\n")
    );
}
