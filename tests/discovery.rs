//! The discovery rules of Airbyte's Connector Acceptance Test (CAT 2.x,
//! `connector_acceptance_test/tests/test_core.py`, class `TestDiscovery`), applied to
//! what `discover` prints. Each rule is a function that lists the problems it finds;
//! `discover_passes_every_rule` runs them all on our catalog, and
//! `each_rule_finds_what_it_is_for` shows that each one flags a catalog that breaks it.
//!
//! | CAT test | rule here |
//! |---|---|
//! | `test_discover` | [`one_catalog_with_unique_streams`] |
//! | `test_streams_have_valid_json_schemas` | [`schemas_are_draft7`] |
//! | `test_defined_cursors_exist_in_schema` | [`cursors_in_schema`] |
//! | `test_defined_refs_exist_in_schema` | [`no_refs`] |
//! | `test_defined_keyword_exist_in_schema[allOf/not]` | [`no_all_of_or_not`] |
//! | `test_primary_keys_exist_in_schema` | [`keys_in_schema`] |
//! | `test_primary_keys_data_type` | [`keys_not_object_or_array`] |
//! | `test_streams_has_sync_modes` | [`sync_modes`] |
//! | `test_additional_properties_is_true` | [`additional_properties_true`] |
//! | `test_catalog_has_supported_data_types` (skipped in CAT itself) | [`supported_types`] |
//!
//! Also the house rule the schemas follow: every declared field is nullable
//! ([`every_field_nullable`]). Records against these schemas: `tests/resilience.rs`.
mod common;

use common::{Dir, run};
use serde_json::{Value, json};
use std::collections::BTreeSet;

type Rule = fn(&[Value]) -> Vec<String>;

const RULES: [(&str, Rule); 11] = [
    (
        "one catalog, unique stream names",
        one_catalog_with_unique_streams,
    ),
    ("schemas are valid draft-07 schemas", schemas_are_draft7),
    ("default cursor fields are in the schema", cursors_in_schema),
    ("no $ref", no_refs),
    ("no allOf, no not", no_all_of_or_not),
    ("primary keys are in the schema", keys_in_schema),
    (
        "primary keys are not objects or arrays",
        keys_not_object_or_array,
    ),
    ("every stream has sync modes", sync_modes),
    (
        "additionalProperties is true wherever set",
        additional_properties_true,
    ),
    ("types, formats, airbyte_types supported", supported_types),
    ("every field is nullable", every_field_nullable),
];

fn streams(catalog: &[Value]) -> Vec<&Value> {
    catalog
        .iter()
        .flat_map(|c| c["streams"].as_array().into_iter().flatten())
        .collect()
}

fn name(s: &Value) -> &str {
    s["name"].as_str().unwrap_or("<no name>")
}

/// `test_discover`: exactly one CATALOG, with streams, no name twice.
fn one_catalog_with_unique_streams(catalogs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    if catalogs.len() != 1 {
        out.push(format!("{} CATALOG messages, not 1", catalogs.len()));
    }
    let all = streams(catalogs);
    if all.is_empty() {
        out.push("the catalog has no streams".into());
    }
    let mut seen = BTreeSet::new();
    for s in all {
        if !seen.insert(name(s)) {
            out.push(format!("stream {} appears twice", name(s)));
        }
    }
    out
}

/// `test_streams_have_valid_json_schemas`: `Draft7Validator.check_schema`.
fn schemas_are_draft7(catalogs: &[Value]) -> Vec<String> {
    streams(catalogs)
        .into_iter()
        .filter_map(|s| {
            jsonschema::draft7::meta::validate(&s["json_schema"])
                .err()
                .map(|e| format!("{}: not a draft-07 schema: {e}", name(s)))
        })
        .collect()
}

/// The schema node at `path` below the top-level `properties`, as CAT finds it
/// (`"/properties/".join(path)` searched in `schema["properties"]`).
fn field<'a>(schema: &'a Value, path: &[Value]) -> Option<&'a Value> {
    let mut node = schema.get("properties")?;
    for (i, part) in path.iter().enumerate() {
        if i > 0 {
            node = node.get("properties")?;
        }
        node = node.get(part.as_str()?)?;
    }
    Some(node)
}

/// `test_defined_cursors_exist_in_schema`.
fn cursors_in_schema(catalogs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for s in streams(catalogs) {
        let Some(cursor) = s["default_cursor_field"]
            .as_array()
            .filter(|c| !c.is_empty())
        else {
            continue;
        };
        if s["json_schema"].get("properties").is_none() {
            out.push(format!(
                "{}: the schema has no top-level properties",
                name(s)
            ));
        } else if field(&s["json_schema"], cursor).is_none() {
            out.push(format!("{}: cursor {cursor:?} not in the schema", name(s)));
        }
    }
    out
}

/// Every value of a key named `key` at any depth (CAT's
/// `find_all_values_for_key_in_schema`: property names count too).
fn values_of<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == key {
                    out.push(child);
                }
                values_of(child, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| values_of(i, key, out)),
        _ => {}
    }
}

fn found(s: &Value, key: &str) -> usize {
    let mut out = Vec::new();
    values_of(&s["json_schema"], key, &mut out);
    out.len()
}

/// `test_defined_refs_exist_in_schema`: no `$ref` anywhere.
fn no_refs(catalogs: &[Value]) -> Vec<String> {
    streams(catalogs)
        .into_iter()
        .filter(|s| found(s, "$ref") > 0)
        .map(|s| format!("{}: has $ref", name(s)))
        .collect()
}

/// `test_defined_keyword_exist_in_schema`: no `allOf` or `not`. CAT skips the
/// property names directly under a `"type": "object"` node; this checks every key,
/// which flags a superset.
fn no_all_of_or_not(catalogs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for s in streams(catalogs) {
        for kw in ["allOf", "not"] {
            if found(s, kw) > 0 {
                out.push(format!("{}: uses {kw}", name(s)));
            }
        }
    }
    out
}

/// `test_primary_keys_exist_in_schema`.
fn keys_in_schema(catalogs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for s in streams(catalogs) {
        for pk in s["source_defined_primary_key"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let path = pk.as_array().map(Vec::as_slice).unwrap_or_default();
            if path.is_empty() || field(&s["json_schema"], path).is_none() {
                out.push(format!("{}: primary key {pk} not in the schema", name(s)));
            }
        }
    }
    out
}

fn types(node: &Value) -> BTreeSet<&str> {
    match &node["type"] {
        Value::String(t) => BTreeSet::from([t.as_str()]),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => BTreeSet::new(),
    }
}

/// `test_primary_keys_data_type`: no key part may be typed object or array.
fn keys_not_object_or_array(catalogs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for s in streams(catalogs) {
        for pk in s["source_defined_primary_key"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let path = pk.as_array().map(Vec::as_slice).unwrap_or_default();
            if let Some(node) = field(&s["json_schema"], path) {
                let t = types(node);
                if t.contains("object") || t.contains("array") {
                    out.push(format!("{}: primary key {pk} is typed {t:?}", name(s)));
                }
            }
        }
    }
    out
}

/// `test_streams_has_sync_modes`.
fn sync_modes(catalogs: &[Value]) -> Vec<String> {
    streams(catalogs)
        .into_iter()
        .filter(|s| {
            s["supported_sync_modes"]
                .as_array()
                .is_none_or(Vec::is_empty)
        })
        .map(|s| format!("{}: no supported_sync_modes", name(s)))
        .collect()
}

/// `test_additional_properties_is_true`: wherever `additionalProperties` appears,
/// it is exactly `true` (not a schema, not false).
fn additional_properties_true(catalogs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for s in streams(catalogs) {
        let mut values = Vec::new();
        values_of(&s["json_schema"], "additionalProperties", &mut values);
        let bad = values.iter().filter(|v| **v != &Value::Bool(true)).count();
        if bad > 0 {
            out.push(format!(
                "{}: {bad} additionalProperties not `true`",
                name(s)
            ));
        }
    }
    out
}

/// Walk every schema node (the node itself, its `properties`' values, `items`).
fn nodes<'a>(node: &'a Value, at: String, f: &mut dyn FnMut(&'a Value, &str)) {
    f(node, &at);
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, child) in props {
            nodes(child, format!("{at}.{k}"), f);
        }
    }
    if let Some(items) = node.get("items") {
        nodes(items, format!("{at}[]"), f);
    }
}

/// `test_catalog_has_supported_data_types` (marked skip in CAT; checked here):
/// types among Airbyte's, `format` only date/date-time on a string, `airbyte_type`
/// only in its allowed combinations.
fn supported_types(catalogs: &[Value]) -> Vec<String> {
    const VALID: [&str; 7] = [
        "null", "string", "number", "integer", "boolean", "object", "array",
    ];
    let mut out = Vec::new();
    for s in streams(catalogs) {
        nodes(&s["json_schema"], String::new(), &mut |node, at| {
            let t = types(node);
            if node.get("type").is_some() && t.is_empty() {
                out.push(format!("{}{at}: type is {}", name(s), node["type"]));
            }
            if let Some(bad) = t.iter().find(|x| !VALID.contains(x)) {
                out.push(format!("{}{at}: unsupported type {bad}", name(s)));
            }
            if let Some(fmt) = node.get("format") {
                let on_string =
                    t == BTreeSet::from(["string"]) || t == BTreeSet::from(["string", "null"]);
                if !(fmt == "date-time" || fmt == "date") || !on_string {
                    out.push(format!("{}{at}: format {fmt} on {t:?}", name(s)));
                }
            }
            if let Some(at_type) = node.get("airbyte_type").and_then(Value::as_str) {
                let ok = match at_type {
                    "timestamp_with_timezone" => {
                        t == BTreeSet::from(["string"]) || t == BTreeSet::from(["string", "null"])
                    }
                    "timestamp_without_timezone" => t == BTreeSet::from(["string"]),
                    "integer" => [["integer"], ["number"]].iter().any(|[one]| {
                        t == BTreeSet::from([*one]) || t == BTreeSet::from([*one, "null"])
                    }),
                    _ => false,
                };
                if !ok {
                    out.push(format!("{}{at}: airbyte_type {at_type} on {t:?}", name(s)));
                }
            }
        });
    }
    out
}

/// House rule: every declared field (below the record itself) may be null.
fn every_field_nullable(catalogs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for s in streams(catalogs) {
        nodes(&s["json_schema"], String::new(), &mut |node, at| {
            if !at.is_empty() && !types(node).contains("null") {
                out.push(format!("{}{at}: not nullable", name(s)));
            }
        });
    }
    out
}

fn discovered() -> Vec<Value> {
    let dir = Dir::new("discovery");
    let cfg = dir.write(
        "config.json",
        &common::config("http://127.0.0.1:9", json!({})),
    );
    let out = run(&["discover", "--config", &common::path(&cfg)]);
    assert_eq!(out.code, Some(0), "discover failed: {}", out.stderr);
    out.messages
        .iter()
        .filter(|m| m["type"] == "CATALOG")
        .map(|m| m["catalog"].clone())
        .collect()
}

#[test]
fn discover_passes_every_rule() {
    let catalogs = discovered();
    assert_eq!(streams(&catalogs).len(), 22);
    let mut problems = Vec::new();
    for (what, rule) in RULES {
        for p in rule(&catalogs) {
            problems.push(format!("[{what}] {p}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn each_rule_finds_what_it_is_for() {
    let good = || {
        json!({
            "name": "s",
            "json_schema": {
                "type": "object",
                "additionalProperties": true,
                "properties": {
                    "id": {"type": ["null", "string"]},
                    "updated_at": {"type": ["null", "string"], "format": "date-time"},
                    "custom_fields": {"type": ["null", "object"], "additionalProperties": true, "properties": {}}
                }
            },
            "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_primary_key": [["id"]],
            "default_cursor_field": ["updated_at"]
        })
    };
    let catalog = |streams: Vec<Value>| vec![json!({ "streams": streams })];
    for (what, rule) in RULES {
        assert!(
            rule(&catalog(vec![good()])).is_empty(),
            "[{what}] flags a good stream"
        );
    }
    let with = |path: &str, v: Value| {
        let mut s = good();
        *s.pointer_mut(path).unwrap_or_else(|| panic!("{path}")) = v;
        s
    };
    let typed_map = json!({"type": ["null", "string"]});
    let cases: [(usize, Vec<Value>); 11] = [
        (0, vec![good(), good()]),
        (1, vec![with("/json_schema/properties/id/type", json!(5))]),
        (
            2,
            vec![with("/default_cursor_field", json!(["modified_at"]))],
        ),
        (
            3,
            vec![with(
                "/json_schema/properties/id",
                json!({"$ref": "#/definitions/id"}),
            )],
        ),
        (
            4,
            vec![with(
                "/json_schema/properties/id",
                json!({"type": ["null", "string"], "not": {"type": "null"}}),
            )],
        ),
        (
            5,
            vec![with("/source_defined_primary_key", json!([["key"]]))],
        ),
        (
            6,
            vec![with(
                "/json_schema/properties/id/type",
                json!(["null", "object"]),
            )],
        ),
        (7, vec![with("/supported_sync_modes", json!([]))]),
        (
            8,
            vec![with(
                "/json_schema/properties/custom_fields/additionalProperties",
                typed_map,
            )],
        ),
        (
            9,
            vec![with(
                "/json_schema/properties/updated_at/format",
                json!("uri"),
            )],
        ),
        (
            10,
            vec![with("/json_schema/properties/id/type", json!("string"))],
        ),
    ];
    for (i, streams) in cases {
        let (what, rule) = RULES[i];
        assert!(
            !rule(&catalog(streams)).is_empty(),
            "[{what}] misses what it is for"
        );
    }
    // And the rule of additionalProperties also refuses `false`.
    let f = with("/json_schema/additionalProperties", json!(false));
    assert!(!additional_properties_true(&catalog(vec![f])).is_empty());
}
