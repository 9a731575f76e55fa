//! Node selection as dbt users write it: `--select` and `--exclude` terms such as
//! `+application.customer_360`, `layer:foundation,tag:daily` or `source:core`, resolved to node names.
//!
//! ```text
//!  item      := term (whitespace term)*      union
//!  term      := atom ("," atom)*             intersection
//!  atom      := ["+"] selector ["+"]         +x: x and all it reads; x+: x and all that reads it
//!  selector  := "*"                          every model and source table
//!             | name                         a model (layer.name) or source table (src.<system>_<table>)
//!             | "layer:" layer               src | foundation | aggregation | application
//!             | "subject:" subject           models under sql/<layer>/<subject>/
//!             | "source:" system ["." table] the system's (or one table's) staged tables and every model reading them
//!             | "tag:" tag                   models whose metadata lists the tag
//! ```
//!
//! No `--select` means every node; what `--exclude` selects is then removed.

use std::collections::BTreeSet;

use crate::compile::{Compiled, suggest};
use crate::error::{Error, Result};
use crate::project::{Layer, Model};

/// The selector methods, as written before the `:`.
const METHODS: [&str; 4] = ["layer", "subject", "source", "tag"];

/// What one atom names, before its `+` operators are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    /// `*`
    All,
    /// `foundation.customer`, `src.core_customer`
    Name(String),
    /// `layer:foundation`
    Layer(Layer),
    /// `subject:customer`
    Subject(String),
    /// `source:core` or `source:core.customer`
    Source { system: String, table: Option<String> },
    /// `tag:daily`
    Tag(String),
}

/// One atom: a selector with its graph operators.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Atom {
    /// `+x`: add everything `x` reads, directly or not.
    upstream: bool,
    selector: Selector,
    /// `x+`: add everything that reads `x`, directly or not.
    downstream: bool,
}

/// The nodes `select` names minus those `exclude` names: models (`layer.name`) and
/// source tables (`src.<system>_<table>`). An empty `select` names every node.
///
/// Each item is a union of whitespace-separated terms, each term an intersection of
/// comma-separated atoms (see the module docs). Unknown names, layers, subjects, source
/// systems, tags and malformed terms are [`Error::Usage`] with the closest names suggested.
pub fn select(compiled: &Compiled, select: &[String], exclude: &[String]) -> Result<BTreeSet<String>> {
    let selected = parse("--select", select)?;
    let excluded = parse("--exclude", exclude)?;
    let mut nodes = if select.is_empty() {
        compiled.dag.nodes().map(str::to_string).collect()
    } else {
        evaluate(compiled, "--select", &selected)?
    };
    let removed = evaluate(compiled, "--exclude", &excluded)?;
    nodes.retain(|n| !removed.contains(n));
    Ok(nodes)
}

/// What `run` builds: the selection plus the source tables its models read
/// directly (so they find today's extracts staged), minus everything `--exclude`
/// names — an explicit `--exclude layer:src` wins and the run reads what is
/// already staged.
pub fn select_for_run(compiled: &Compiled, select: &[String], exclude: &[String]) -> Result<BTreeSet<String>> {
    let mut nodes = with_direct_sources(compiled, self::select(compiled, select, &[])?);
    let removed = evaluate(compiled, "--exclude", &parse("--exclude", exclude)?)?;
    nodes.retain(|n| !removed.contains(n));
    Ok(nodes)
}

/// `nodes` plus the source tables the models among them read directly: what a run
/// must ingest so that the selected models find today's extracts staged.
pub fn with_direct_sources(compiled: &Compiled, mut nodes: BTreeSet<String>) -> BTreeSet<String> {
    let read: Vec<String> = nodes
        .iter()
        .filter(|n| compiled.project.models.contains_key(*n))
        .flat_map(|n| compiled.dag.deps(n))
        .filter(|d| compiled.project.sources.contains_key(*d))
        .map(str::to_string)
        .collect();
    nodes.extend(read);
    nodes
}

/// A parsed term: its atoms, each with the text it was written as.
type Term<'a> = Vec<(&'a str, Atom)>;

/// Parse every item of one flag, so syntax errors come before lookups.
fn parse<'a>(flag: &str, items: &'a [String]) -> Result<Vec<Term<'a>>> {
    let mut terms = Vec::new();
    for item in items {
        let before = terms.len();
        for term in item.split_whitespace() {
            let mut atoms = Vec::new();
            for text in term.split(',') {
                if text.is_empty() {
                    return Err(Error::Usage(format!(
                        "{flag} '{term}': empty selector next to ','; write a,b for what both a and b select"
                    )));
                }
                atoms.push((text, parse_atom(flag, text)?));
            }
            terms.push(atoms);
        }
        if terms.len() == before {
            return Err(Error::Usage(format!(
                "{flag} '{item}': empty selector; name a model, a source table or a method such as layer:foundation"
            )));
        }
    }
    Ok(terms)
}

/// Parse one atom: `[+]selector[+]`.
fn parse_atom(flag: &str, text: &str) -> Result<Atom> {
    let bad = |why: String| Error::Usage(format!("{flag} '{text}': {why}"));
    let (upstream, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (downstream, core) = match rest.strip_suffix('+') {
        Some(core) => (true, core),
        None => (false, rest),
    };
    if core.is_empty() {
        return Err(bad("'+' needs a selector: write +name, name+ or +name+".into()));
    }
    if core.contains('+') {
        return Err(bad(
            "'+' goes only directly before or after a selector (+name, name+, +name+); \
             depths such as 2+name are not supported"
                .into(),
        ));
    }
    if core.starts_with('@') {
        return Err(bad(
            "'@' is not supported; +name+ selects everything up- and downstream".into(),
        ));
    }
    let selector = match core.split_once(':') {
        None if core == "*" => Selector::All,
        None => Selector::Name(core.to_string()),
        Some((method, value)) => {
            if !METHODS.contains(&method) {
                return Err(bad(format!(
                    "unknown selector method '{method}'{}",
                    or_list(suggest(method, METHODS.into_iter()), "methods", METHODS.into_iter())
                )));
            }
            if value.is_empty() {
                return Err(bad(format!("'{method}:' needs a value, as in {}", example(method))));
            }
            match method {
                "layer" => match Layer::parse(value) {
                    Some(layer) => Selector::Layer(layer),
                    None => {
                        let layers =
                            [Layer::Src, Layer::Foundation, Layer::Aggregation, Layer::Application].map(Layer::as_str);
                        return Err(bad(format!(
                            "unknown layer '{value}'{}",
                            or_list(suggest(value, layers.into_iter()), "layers", layers.into_iter())
                        )));
                    }
                },
                "subject" => Selector::Subject(value.to_string()),
                "tag" => Selector::Tag(value.to_string()),
                _ => match value.split_once('.') {
                    None => Selector::Source {
                        system: value.to_string(),
                        table: None,
                    },
                    Some((system, table)) if !system.is_empty() && !table.is_empty() && !table.contains('.') => {
                        Selector::Source {
                            system: system.to_string(),
                            table: Some(table.to_string()),
                        }
                    }
                    Some(_) => {
                        return Err(bad(format!(
                            "'source:' takes a system or system.table, as in {}",
                            example(method)
                        )));
                    }
                },
            }
        }
    };
    Ok(Atom {
        upstream,
        selector,
        downstream,
    })
}

/// An example value for a method, for messages.
fn example(method: &str) -> &'static str {
    match method {
        "layer" => "layer:foundation",
        "subject" => "subject:customer",
        "source" => "source:core or source:core.customer",
        _ => "tag:daily",
    }
}

/// The suggestion if there is one, else " (<what>: a, b, c)", or " (no <what>)".
fn or_list<'a>(suggestion: String, what: &str, all: impl Iterator<Item = &'a str>) -> String {
    if !suggestion.is_empty() {
        return suggestion;
    }
    let all: Vec<&str> = all.collect();
    if all.is_empty() {
        format!(" (there are no {what})")
    } else {
        format!(" ({what}: {})", all.join(", "))
    }
}

/// The union of the terms, each the intersection of its atoms.
fn evaluate(compiled: &Compiled, flag: &str, terms: &[Term<'_>]) -> Result<BTreeSet<String>> {
    let mut union = BTreeSet::new();
    for term in terms {
        let mut both: Option<BTreeSet<String>> = None;
        for (text, atom) in term {
            let nodes = resolve(compiled, flag, text, atom)?;
            both = Some(match both {
                None => nodes,
                Some(so_far) => so_far.intersection(&nodes).cloned().collect(),
            });
        }
        union.extend(both.unwrap_or_default());
    }
    Ok(union)
}

/// The nodes one atom names, with its `+` operators applied.
fn resolve(compiled: &Compiled, flag: &str, text: &str, atom: &Atom) -> Result<BTreeSet<String>> {
    let unknown = |why: String| Error::Usage(format!("{flag} '{text}': {why}"));
    let project = &compiled.project;
    let dag = &compiled.dag;
    let models = || project.models.values().filter(|m| dag.contains(&m.name));
    let base: BTreeSet<String> = match &atom.selector {
        Selector::All => dag.nodes().map(str::to_string).collect(),
        Selector::Name(name) => {
            if !dag.contains(name) {
                return Err(unknown(format!(
                    "no model or source table named '{name}'{}",
                    name_hint(compiled, name)
                )));
            }
            BTreeSet::from([name.clone()])
        }
        Selector::Layer(Layer::Src) => project.sources.keys().filter(|s| dag.contains(s)).cloned().collect(),
        Selector::Layer(layer) => models().filter(|m| m.layer == *layer).map(|m| m.name.clone()).collect(),
        Selector::Subject(subject) => {
            let nodes: BTreeSet<String> = models()
                .filter(|m| &m.subject == subject)
                .map(|m| m.name.clone())
                .collect();
            if nodes.is_empty() {
                let subjects: BTreeSet<&str> = models().map(|m| m.subject.as_str()).collect();
                return Err(unknown(format!(
                    "no model has subject '{subject}'{}",
                    or_list(
                        suggest(subject, subjects.iter().copied()),
                        "subjects",
                        subjects.iter().copied()
                    )
                )));
            }
            nodes
        }
        Selector::Tag(tag) => {
            let nodes: BTreeSet<String> = models()
                .filter(|m| tags_of(m).any(|t| t == tag))
                .map(|m| m.name.clone())
                .collect();
            if nodes.is_empty() {
                let tags: BTreeSet<&str> = models().flat_map(tags_of).map(String::as_str).collect();
                let hint = if tags.is_empty() {
                    " (no model has tags yet: add tags = [\"…\"] to its entry in models/<layer>/<subject>.toml)"
                        .to_string()
                } else {
                    or_list(suggest(tag, tags.iter().copied()), "tags", tags.iter().copied())
                };
                return Err(unknown(format!("no model is tagged '{tag}'{hint}")));
            }
            nodes
        }
        Selector::Source { system, table } => {
            let systems: BTreeSet<&str> = project.sources.values().map(|s| s.system.as_str()).collect();
            if !systems.contains(system.as_str()) {
                return Err(unknown(format!(
                    "no source system '{system}'{}",
                    or_list(
                        suggest(system, systems.iter().copied()),
                        "systems",
                        systems.iter().copied()
                    )
                )));
            }
            let of_system = || project.sources.values().filter(|s| &s.system == system);
            let tables: BTreeSet<String> = match table {
                None => of_system().map(|s| s.qualified_name()).collect(),
                Some(table) => match of_system().find(|s| &s.table == table) {
                    Some(s) => BTreeSet::from([s.qualified_name()]),
                    None => {
                        let names: Vec<&str> = of_system().map(|s| s.table.as_str()).collect();
                        return Err(unknown(format!(
                            "source system '{system}' has no table '{table}'{}",
                            or_list(suggest(table, names.iter().copied()), "tables", names.iter().copied())
                        )));
                    }
                },
            };
            let mut nodes = BTreeSet::new();
            for t in tables.into_iter().filter(|t| dag.contains(t)) {
                nodes.extend(dag.downstream(&t));
                nodes.insert(t);
            }
            nodes
        }
    };
    let mut nodes = base.clone();
    for node in &base {
        if atom.upstream {
            nodes.extend(dag.upstream(node));
        }
        if atom.downstream {
            nodes.extend(dag.downstream(node));
        }
    }
    Ok(nodes)
}

/// The tags a model's metadata lists.
fn tags_of(model: &Model) -> impl Iterator<Item = &String> {
    model.meta.iter().flat_map(|meta| meta.tags.iter())
}

/// "; did you mean …?" for a name that is not a node: the layer-qualified names for a bare
/// table name, `layer:x` for `x.*`, else the closest node names.
fn name_hint(compiled: &Compiled, name: &str) -> String {
    if let Some(layer) = name.strip_suffix(".*").and_then(Layer::parse) {
        return format!("; did you mean 'layer:{layer}'?");
    }
    if !name.contains('.') {
        let suffix = format!(".{name}");
        let hits: Vec<String> = compiled
            .dag
            .nodes()
            .filter(|n| n.ends_with(&suffix))
            .map(|n| format!("'{n}'"))
            .collect();
        if !hits.is_empty() {
            return format!("; did you mean {}?", hits.join(" or "));
        }
    }
    suggest(name, compiled.dag.nodes())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::compile::compile;
    use crate::project::Project;

    /// Every node of the fixture below.
    const ALL: [&str; 11] = [
        "aggregation.card_spend",
        "aggregation.customer_balance",
        "application.customer_360",
        "application.scorecard",
        "foundation.account",
        "foundation.card_txn",
        "foundation.customer",
        "src.card_txn",
        "src.core_account",
        "src.core_customer",
        "src.crm_contact",
    ];

    /// A source system definition whose tables each have `customer_id` and `amount`.
    fn source_system(tables: &[&str]) -> String {
        tables
            .iter()
            .map(|t| {
                format!(
                    "[[tables]]\nname = \"{t}\"\nfile = \"{{biz_date}}/{t}.csv\"\nformat = \"csv\"\n\n\
                     [[tables.columns]]\nname = \"customer_id\"\ntype = \"string\"\n\n\
                     [[tables.columns]]\nname = \"amount\"\ntype = \"decimal(18,2)\"\n\n"
                )
            })
            .collect()
    }

    /// The fixture, compiled once for all tests. Subject in (), tags in [], reads upward:
    ///
    /// ```text
    ///  src.core_customer        src.core_account       src.card_txn             src.crm_contact
    ///         │                        │                    │                   (read by nothing)
    ///  foundation.customer      foundation.account     foundation.card_txn
    ///  (customer) [daily,pii]   (account) [daily]      (card)
    ///      │           \              /                     │
    ///      │        aggregation.customer_balance       aggregation.card_spend
    ///      │        (customer)                         (card) [monthly]
    ///      │                         \                    /
    ///  application.scorecard         application.customer_360
    ///  (marketing)                   (customer) [daily,mart]
    /// ```
    async fn fixture() -> &'static Compiled {
        static COMPILED: tokio::sync::OnceCell<Compiled> = tokio::sync::OnceCell::const_new();
        COMPILED
            .get_or_init(|| async {
                let dir = tempfile::tempdir().expect("temp dir");
                let files = [
                    ("lakemart.toml", "[project]\nname = \"select\"\n".to_string()),
                    ("models/sources/core.toml", source_system(&["customer", "account"])),
                    ("models/sources/card.toml", source_system(&["txn"])),
                    ("models/sources/crm.toml", source_system(&["contact"])),
                    (
                        "sql/foundation/customer/customer.sql",
                        "SELECT customer_id FROM src.core_customer".into(),
                    ),
                    (
                        "sql/foundation/account/account.sql",
                        "SELECT customer_id, amount FROM src.core_account".into(),
                    ),
                    (
                        "sql/foundation/card/card_txn.sql",
                        "SELECT customer_id, amount FROM src.card_txn".into(),
                    ),
                    (
                        "sql/aggregation/customer/customer_balance.sql",
                        "SELECT c.customer_id, sum(a.amount) AS balance \
                         FROM foundation.customer c JOIN foundation.account a ON c.customer_id = a.customer_id \
                         GROUP BY c.customer_id"
                            .into(),
                    ),
                    (
                        "sql/aggregation/card/card_spend.sql",
                        "SELECT customer_id, sum(amount) AS spend FROM foundation.card_txn GROUP BY customer_id".into(),
                    ),
                    (
                        "sql/application/customer/customer_360.sql",
                        "SELECT b.customer_id, b.balance, s.spend FROM aggregation.customer_balance b \
                         LEFT JOIN aggregation.card_spend s ON b.customer_id = s.customer_id"
                            .into(),
                    ),
                    (
                        "sql/application/marketing/scorecard.sql",
                        "SELECT customer_id FROM foundation.customer".into(),
                    ),
                    (
                        "models/foundation/customer.toml",
                        "[[models]]\nname = \"customer\"\ntags = [\"daily\", \"pii\"]\n".into(),
                    ),
                    (
                        "models/foundation/account.toml",
                        "[[models]]\nname = \"account\"\ntags = [\"daily\"]\n".into(),
                    ),
                    (
                        "models/aggregation/card.toml",
                        "[[models]]\nname = \"card_spend\"\ntags = [\"monthly\"]\n".into(),
                    ),
                    (
                        "models/application/customer.toml",
                        "[[models]]\nname = \"customer_360\"\ntags = [\"daily\", \"mart\"]\n".into(),
                    ),
                ];
                for (path, text) in files {
                    let full = dir.path().join(path);
                    std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
                    std::fs::write(full, text).expect("write");
                }
                let project = Project::load(dir.path()).expect("project loads");
                compile(project).await.expect("fixture compiles")
            })
            .await
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// Select with `select` and `exclude`, as a sorted list.
    async fn sel(select: &[&str], exclude: &[&str]) -> Vec<String> {
        super::select(fixture().await, &strings(select), &strings(exclude))
            .expect("selection is valid")
            .into_iter()
            .collect()
    }

    /// The error message of a selection that must fail.
    async fn sel_err(select: &[&str], exclude: &[&str]) -> String {
        match super::select(fixture().await, &strings(select), &strings(exclude)) {
            Ok(nodes) => panic!("expected an error, selected {nodes:?}"),
            Err(Error::Usage(message)) => message,
            Err(other) => panic!("expected a usage error, got {other}"),
        }
    }

    #[test]
    fn atoms_parse_with_their_operators() {
        let atom = |text| parse_atom("--select", text).expect("parses");
        assert_eq!(
            atom("+foundation.customer+"),
            Atom {
                upstream: true,
                selector: Selector::Name("foundation.customer".into()),
                downstream: true,
            }
        );
        assert_eq!(
            atom("+tag:daily"),
            Atom {
                upstream: true,
                selector: Selector::Tag("daily".into()),
                downstream: false,
            }
        );
        assert_eq!(atom("layer:src").selector, Selector::Layer(Layer::Src));
        assert_eq!(atom("*+").selector, Selector::All);
        assert_eq!(
            atom("source:core.customer").selector,
            Selector::Source {
                system: "core".into(),
                table: Some("customer".into())
            }
        );
        assert_eq!(atom("subject:customer").selector, Selector::Subject("customer".into()));
    }

    #[tokio::test]
    async fn no_select_and_star_mean_every_node() {
        assert_eq!(sel(&[], &[]).await, ALL);
        assert_eq!(sel(&["*"], &[]).await, ALL);
        assert_eq!(sel(&["+*+"], &[]).await, ALL);
    }

    #[tokio::test]
    async fn a_name_selects_exactly_that_model_or_source() {
        assert_eq!(
            sel(&["application.customer_360"], &[]).await,
            ["application.customer_360"]
        );
        assert_eq!(sel(&["src.core_account"], &[]).await, ["src.core_account"]);
    }

    #[tokio::test]
    async fn plus_before_adds_everything_upstream() {
        assert_eq!(
            sel(&["+application.customer_360"], &[]).await,
            [
                "aggregation.card_spend",
                "aggregation.customer_balance",
                "application.customer_360",
                "foundation.account",
                "foundation.card_txn",
                "foundation.customer",
                "src.card_txn",
                "src.core_account",
                "src.core_customer",
            ]
        );
    }

    #[tokio::test]
    async fn plus_after_adds_everything_downstream() {
        assert_eq!(
            sel(&["foundation.customer+"], &[]).await,
            [
                "aggregation.customer_balance",
                "application.customer_360",
                "application.scorecard",
                "foundation.customer",
            ]
        );
        assert_eq!(
            sel(&["src.core_account+"], &[]).await,
            [
                "aggregation.customer_balance",
                "application.customer_360",
                "foundation.account",
                "src.core_account",
            ]
        );
    }

    #[tokio::test]
    async fn plus_on_both_sides_adds_up_and_downstream() {
        assert_eq!(
            sel(&["+aggregation.customer_balance+"], &[]).await,
            [
                "aggregation.customer_balance",
                "application.customer_360",
                "foundation.account",
                "foundation.customer",
                "src.core_account",
                "src.core_customer",
            ]
        );
    }

    #[tokio::test]
    async fn layer_selects_its_models_or_the_staged_sources() {
        assert_eq!(
            sel(&["layer:foundation"], &[]).await,
            ["foundation.account", "foundation.card_txn", "foundation.customer"]
        );
        assert_eq!(
            sel(&["layer:application"], &[]).await,
            ["application.customer_360", "application.scorecard"]
        );
        assert_eq!(
            sel(&["layer:src"], &[]).await,
            [
                "src.card_txn",
                "src.core_account",
                "src.core_customer",
                "src.crm_contact"
            ]
        );
    }

    #[tokio::test]
    async fn subject_selects_the_models_of_that_subject_area_in_every_layer() {
        assert_eq!(
            sel(&["subject:customer"], &[]).await,
            [
                "aggregation.customer_balance",
                "application.customer_360",
                "foundation.customer",
            ]
        );
    }

    #[tokio::test]
    async fn source_selects_a_systems_tables_and_every_model_reading_them() {
        assert_eq!(
            sel(&["source:core"], &[]).await,
            [
                "aggregation.customer_balance",
                "application.customer_360",
                "application.scorecard",
                "foundation.account",
                "foundation.customer",
                "src.core_account",
                "src.core_customer",
            ]
        );
        assert_eq!(
            sel(&["source:card.txn"], &[]).await,
            [
                "aggregation.card_spend",
                "application.customer_360",
                "foundation.card_txn",
                "src.card_txn",
            ]
        );
        assert_eq!(sel(&["source:crm"], &[]).await, ["src.crm_contact"]);
    }

    #[tokio::test]
    async fn tag_selects_tagged_models_and_takes_operators() {
        assert_eq!(
            sel(&["tag:daily"], &[]).await,
            ["application.customer_360", "foundation.account", "foundation.customer"]
        );
        assert_eq!(
            sel(&["+tag:monthly"], &[]).await,
            ["aggregation.card_spend", "foundation.card_txn", "src.card_txn"]
        );
        assert_eq!(
            sel(&["tag:pii+"], &[]).await,
            [
                "aggregation.customer_balance",
                "application.customer_360",
                "application.scorecard",
                "foundation.customer",
            ]
        );
    }

    #[tokio::test]
    async fn a_comma_intersects_after_each_atoms_operators() {
        assert_eq!(
            sel(&["layer:foundation,tag:daily"], &[]).await,
            ["foundation.account", "foundation.customer"]
        );
        assert_eq!(
            sel(&["source:core,layer:application"], &[]).await,
            ["application.customer_360", "application.scorecard"]
        );
        assert_eq!(
            sel(&["+application.customer_360,source:card,layer:foundation"], &[]).await,
            ["foundation.card_txn"]
        );
        assert_eq!(sel(&["tag:monthly,tag:daily"], &[]).await, Vec::<String>::new());
    }

    #[tokio::test]
    async fn whitespace_and_separate_items_unite() {
        assert_eq!(
            sel(&["tag:monthly  application.scorecard"], &[]).await,
            ["aggregation.card_spend", "application.scorecard"]
        );
        assert_eq!(
            sel(&["tag:monthly", "application.scorecard", "source:crm"], &[]).await,
            ["aggregation.card_spend", "application.scorecard", "src.crm_contact"]
        );
    }

    #[tokio::test]
    async fn exclude_removes_what_the_same_grammar_selects() {
        assert_eq!(
            sel(&[], &["layer:src"]).await,
            [
                "aggregation.card_spend",
                "aggregation.customer_balance",
                "application.customer_360",
                "application.scorecard",
                "foundation.account",
                "foundation.card_txn",
                "foundation.customer",
            ]
        );
        assert_eq!(
            sel(&["source:core"], &["application.scorecard tag:pii"]).await,
            [
                "aggregation.customer_balance",
                "application.customer_360",
                "foundation.account",
                "src.core_account",
                "src.core_customer",
            ]
        );
        assert_eq!(
            sel(&["*"], &["+aggregation.customer_balance+", "source:card", "source:crm"]).await,
            ["application.scorecard"]
        );
        assert_eq!(
            sel(&["layer:foundation"], &["layer:foundation,tag:daily"]).await,
            ["foundation.card_txn"]
        );
        assert_eq!(sel(&["*"], &["*"]).await, Vec::<String>::new());
    }

    #[tokio::test]
    async fn direct_sources_are_added_for_the_selected_models_only() {
        let compiled = fixture().await;
        let nodes = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
        assert_eq!(
            with_direct_sources(
                compiled,
                nodes(&["aggregation.customer_balance", "foundation.customer"])
            ),
            nodes(&[
                "aggregation.customer_balance",
                "foundation.customer",
                "src.core_customer"
            ])
        );
        assert_eq!(
            with_direct_sources(compiled, nodes(&["application.customer_360", "src.crm_contact"])),
            nodes(&["application.customer_360", "src.crm_contact"])
        );
        let foundation = super::select(compiled, &strings(&["layer:foundation"]), &[]).expect("valid");
        assert_eq!(
            with_direct_sources(compiled, foundation),
            nodes(&[
                "foundation.account",
                "foundation.card_txn",
                "foundation.customer",
                "src.card_txn",
                "src.core_account",
                "src.core_customer",
            ])
        );
        // An explicit exclusion wins over the sources a selection pulls in.
        assert_eq!(
            select_for_run(compiled, &strings(&["layer:foundation"]), &strings(&["layer:src"])).expect("valid"),
            nodes(&["foundation.account", "foundation.card_txn", "foundation.customer"])
        );
        assert_eq!(
            select_for_run(compiled, &strings(&["foundation.customer"]), &[]).expect("valid"),
            nodes(&["foundation.customer", "src.core_customer"])
        );
    }

    #[tokio::test]
    async fn unknown_names_suggest_the_closest() {
        assert_eq!(
            sel_err(&["customer_360+"], &[]).await,
            "--select 'customer_360+': no model or source table named 'customer_360'; \
             did you mean 'application.customer_360'?"
        );
        assert_eq!(
            sel_err(&["foundation.custmer"], &[]).await,
            "--select 'foundation.custmer': no model or source table named 'foundation.custmer'; \
             did you mean 'foundation.customer'?"
        );
        assert_eq!(
            sel_err(&["foundation.*"], &[]).await,
            "--select 'foundation.*': no model or source table named 'foundation.*'; \
             did you mean 'layer:foundation'?"
        );
        assert_eq!(
            sel_err(&["*"], &["layer:foundation,tag:dialy"]).await,
            "--exclude 'tag:dialy': no model is tagged 'dialy'; did you mean 'daily'?"
        );
    }

    #[tokio::test]
    async fn unknown_layers_subjects_systems_and_tags_are_named() {
        assert_eq!(
            sel_err(&["layer:fundation"], &[]).await,
            "--select 'layer:fundation': unknown layer 'fundation'; did you mean 'foundation'?"
        );
        assert_eq!(
            sel_err(&["layer:gold"], &[]).await,
            "--select 'layer:gold': unknown layer 'gold' (layers: src, foundation, aggregation, application)"
        );
        assert_eq!(
            sel_err(&["subject:custmer"], &[]).await,
            "--select 'subject:custmer': no model has subject 'custmer'; did you mean 'customer'?"
        );
        assert_eq!(
            sel_err(&["subject:risk"], &[]).await,
            "--select 'subject:risk': no model has subject 'risk' (subjects: account, card, customer, marketing)"
        );
        assert_eq!(
            sel_err(&["source:cor"], &[]).await,
            "--select 'source:cor': no source system 'cor'; did you mean 'core' or 'card' or 'crm'?"
        );
        assert_eq!(
            sel_err(&["source:treasury"], &[]).await,
            "--select 'source:treasury': no source system 'treasury' (systems: card, core, crm)"
        );
        assert_eq!(
            sel_err(&["source:core.custmer"], &[]).await,
            "--select 'source:core.custmer': source system 'core' has no table 'custmer'; did you mean 'customer'?"
        );
        assert_eq!(
            sel_err(&["+tag:weekly"], &[]).await,
            "--select '+tag:weekly': no model is tagged 'weekly' (tags: daily, mart, monthly, pii)"
        );
        assert_eq!(
            sel_err(&["tags:daily"], &[]).await,
            "--select 'tags:daily': unknown selector method 'tags'; did you mean 'tag'?"
        );
        assert_eq!(
            sel_err(&["path:sql/foundation"], &[]).await,
            "--select 'path:sql/foundation': unknown selector method 'path' (methods: layer, subject, source, tag)"
        );
    }

    #[tokio::test]
    async fn malformed_terms_say_what_is_wrong() {
        assert_eq!(
            sel_err(&["+"], &[]).await,
            "--select '+': '+' needs a selector: write +name, name+ or +name+"
        );
        assert_eq!(
            sel_err(&["2+foundation.customer"], &[]).await,
            "--select '2+foundation.customer': '+' goes only directly before or after a selector \
             (+name, name+, +name+); depths such as 2+name are not supported"
        );
        assert_eq!(
            sel_err(&["@foundation.customer"], &[]).await,
            "--select '@foundation.customer': '@' is not supported; +name+ selects everything up- and downstream"
        );
        assert_eq!(
            sel_err(&["layer:foundation,,tag:daily"], &[]).await,
            "--select 'layer:foundation,,tag:daily': empty selector next to ','; \
             write a,b for what both a and b select"
        );
        assert_eq!(
            sel_err(&["layer:"], &[]).await,
            "--select 'layer:': 'layer:' needs a value, as in layer:foundation"
        );
        assert_eq!(
            sel_err(&["source:core."], &[]).await,
            "--select 'source:core.': 'source:' takes a system or system.table, \
             as in source:core or source:core.customer"
        );
        assert_eq!(
            sel_err(&["  "], &[]).await,
            "--select '  ': empty selector; name a model, a source table or a method such as layer:foundation"
        );
        // Syntax is checked before any name is looked up.
        assert_eq!(
            sel_err(&["nope"], &["tag:"]).await,
            "--exclude 'tag:': 'tag:' needs a value, as in tag:daily"
        );
    }
}
