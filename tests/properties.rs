//! Property tests of every parser that sees outside input: config, catalog, state,
//! page envelopes, timestamps, record shaping. None may panic, whatever the input.

use proptest::prelude::*;
use serde_json::{Value, json};
use source_aftership::json::{envelope, shape as record};
use source_aftership::{catalog, config, paginate, state, streams, time};

/// Arbitrary JSON values, a few levels deep, with keys the parsers look for.
fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("api_key".to_string()),
        Just("start_date".to_string()),
        Just("api_base_url".to_string()),
        Just("streams".to_string()),
        Just("stream".to_string()),
        Just("name".to_string()),
        Just("sync_mode".to_string()),
        Just("type".to_string()),
        Just("stream_descriptor".to_string()),
        Just("stream_state".to_string()),
        Just("updated_at".to_string()),
        Just("states".to_string()),
        Just("partition".to_string()),
        Just("global".to_string()),
        Just("data".to_string()),
        Just("meta".to_string()),
        Just("trackings".to_string()),
        Just("pagination".to_string()),
        Just("next_token".to_string()),
        "[a-z_]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        ".{0,30}".prop_map(Value::String),
        Just(json!("2025-01-01T00:00:00+08:00")),
        Just(json!("trackings")),
        Just(json!("incremental")),
        Just(json!("STREAM")),
        Just(json!("GLOBAL")),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn config_never_panics_nor_echoes_the_key(v in arb_json(), key in "[A-Za-z0-9]{12,20}") {
        let _ = config::parse(&v);
        let mut with_key = v.clone();
        if let Some(obj) = with_key.as_object_mut() {
            obj.insert("api_key".into(), json!(key.clone()));
        }
        if let Err(e) = config::parse(&with_key) {
            prop_assert!(!e.contains(&key), "{e}");
        }
    }

    #[test]
    fn catalog_never_panics(v in arb_json()) {
        let _ = catalog::parse(&v);
    }

    #[test]
    fn state_never_panics(v in arb_json()) {
        if let Ok(input) = state::parse(&v) {
            for def in streams::STREAMS.iter() {
                let _ = state::Cursor::from_state(def, input.streams.get(def.name));
            }
        }
        for def in streams::STREAMS.iter() {
            if let Ok(c) = state::Cursor::from_state(def, Some(&v)) {
                // What we read back, we write and read again unchanged.
                let again = state::Cursor::from_state(def, Some(&c.to_state(def))).unwrap();
                prop_assert_eq!(again, c);
            }
        }
    }

    #[test]
    fn page_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = paginate::parse_page(bytes, "trackings", Some("updated_at"), &envelope::NO_TIMES);
    }

    #[test]
    fn page_parser_never_panics_on_json(v in arb_json(), cut in 0usize..400) {
        let text = v.to_string();
        let parse = |b: &[u8]| paginate::parse_page(b.to_vec(), "trackings", Some("updated_at"), &envelope::NO_TIMES);
        let _ = parse(text.as_bytes());
        let cut = cut.min(text.len());
        let _ = parse(&text.as_bytes()[..cut]);
        let env = json!({"meta": {"code": 200}, "data": {"trackings": [v.clone()], "pagination": v}});
        let _ = parse(env.to_string().as_bytes());
    }

    #[test]
    fn timestamps_never_panic_and_round_trip(s in ".{0,40}", secs in 0i64..4_000_000_000, off in -14i32..15) {
        let _ = time::parse_instant(&s);
        let _ = time::parse_instant_lenient(&s);
        let t = chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0).unwrap();
        let tz = chrono::FixedOffset::east_opt(off * 3600).unwrap();
        let text = t.with_timezone(&tz).to_rfc3339();
        prop_assert_eq!(time::parse_instant(&text), Some(t));
        prop_assert_eq!(time::parse_instant(&time::format_instant(t)), Some(t));
    }

    #[test]
    fn shaping_keeps_the_instant_and_the_rest(v in arb_json(), secs in 0i64..4_000_000_000, off in -14i32..15) {
        let t = chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0).unwrap();
        let tz = chrono::FixedOffset::east_opt(off * 3600).unwrap();
        let rec = json!({"updated_at": t.with_timezone(&tz).to_rfc3339(), "other": v});
        let text = rec.to_string();
        let paths = vec![vec![Some("updated_at".to_string())]];
        let (_, times) = envelope::record(&text, Some("updated_at"), &envelope::TimeFields::new(&paths)).unwrap();
        prop_assert!(off == 0 || !times.is_empty());
        let rw = record::Rewrites { parents: &[("store_id", "s")], withheld: &[] };
        let out: Value = serde_json::from_str(&record::shape(&text, &times, false, &rw).unwrap()).unwrap();
        prop_assert_eq!(time::parse_instant(out["updated_at"].as_str().unwrap()), Some(t));
        prop_assert_eq!(&out["other"], &rec["other"]);
        prop_assert_eq!(&out["store_id"], &json!("s"));
        let _ = source_aftership::json::scan::top_level_field(&v.to_string(), "updated_at");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The one-pass scanner finds exactly the top-level field serde_json finds.
    #[test]
    fn scanner_agrees_with_serde(v in arb_json(), key in prop_oneof![Just("updated_at"), Just("id"), Just("type"), Just("")]) {
        let text = v.to_string();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        for t in [&text, &pretty] {
            let expected = match v.get(key) {
                None => source_aftership::json::scan::Field::Missing,
                Some(Value::Null) => source_aftership::json::scan::Field::Null,
                Some(Value::String(s)) => source_aftership::json::scan::Field::Str(s.clone().into()),
                Some(_) => source_aftership::json::scan::Field::Other,
            };
            let got = source_aftership::json::scan::top_level_field(t, key);
            if v.is_object() {
                prop_assert_eq!(got, expected, "{}", t);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The early-stopping value finder agrees with serde_json on any object.
    #[test]
    fn top_level_value_agrees_with_serde(v in arb_json(), key in prop_oneof![Just("meta"), Just("data"), Just("id")], cut in 0usize..200) {
        let text = serde_json::to_string_pretty(&v).unwrap();
        let got = source_aftership::json::scan::top_level_value(&text, key)
            .map(|raw| serde_json::from_str::<Value>(raw).unwrap());
        let expected = v.as_object().and_then(|o| o.get(key)).cloned();
        prop_assert_eq!(got, expected);
        let cut = cut.min(text.len());
        if let Some(prefix) = text.get(..cut) {
            let _ = source_aftership::json::scan::top_level_value(prefix, key);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The UTC text spliced into a record is the same whether the record goes out
    /// as its own bytes or re-serialised (added fields, line breaks).
    #[test]
    fn utc_splice_survives_reshaping(v in arb_json(), secs in 0i64..4_000_000_000, off in -14i32..15, nested in any::<bool>()) {
        let t = chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0).unwrap();
        let tz = chrono::FixedOffset::east_opt(off * 3600).unwrap();
        let stamp = t.with_timezone(&tz).to_rfc3339();
        let rec = if nested {
            json!({"checkpoints": [{"created_at": stamp.clone(), "x": v.clone()}], "updated_at": stamp, "other": v})
        } else {
            json!({"updated_at": stamp, "other": v, "order_date": "2025-01-01T10:00:00+08:00"})
        };
        let text = serde_json::to_string_pretty(&rec).unwrap();
        let paths = vec![
            vec![Some("updated_at".to_string())],
            vec![Some("checkpoints".to_string()), None, Some("created_at".to_string())],
        ];
        let (_, times) = envelope::record(&text, None, &envelope::TimeFields::new(&paths)).unwrap();
        let plain = record::Rewrites::default();
        let spliced: Value = serde_json::from_str(&record::shape(&text, &times, false, &plain).unwrap()).unwrap();
        // Written as it goes out (pretty text is compacted), a record is one line.
        let (rec, _) = envelope::record(&text, None, &envelope::NO_TIMES).unwrap();
        let line = record::shape(&text, &times, rec.multiline, &plain).unwrap();
        prop_assert!(!line.contains('\n') && !line.contains('\r'), "{}", line);
        prop_assert_eq!(&serde_json::from_str::<Value>(&line).unwrap(), &spliced);
        let parents = record::Rewrites { parents: &[("k", "v")], withheld: &["other"] };
        let tree: Value = serde_json::from_str(&record::shape(&text, &times, rec.multiline, &parents).unwrap()).unwrap();
        prop_assert_eq!(&tree["k"], &json!("v"));
        prop_assert!(leaves(&tree["other"]).iter().all(Value::is_null), "{}", tree["other"]);
        let mut tree = tree;
        tree.as_object_mut().unwrap().remove("k");
        tree["other"] = spliced["other"].clone();
        prop_assert_eq!(&spliced, &tree);
        prop_assert_eq!(time::parse_instant(spliced["updated_at"].as_str().unwrap()), Some(t));
        if !nested {
            prop_assert_eq!(&spliced["order_date"], &json!("2025-01-01T10:00:00+08:00"));
        }
    }
}

/// The scalar values of `v` (its leaves).
fn leaves(v: &Value) -> Vec<Value> {
    match v {
        Value::Object(m) => m.values().flat_map(leaves).collect(),
        Value::Array(a) => a.iter().flat_map(leaves).collect(),
        scalar => vec![scalar.clone()],
    }
}

/// Strings that exercise the validator's string scanning: escapes, control
/// characters (escaped by serde), quotes and non-ASCII text at every alignment.
fn arb_tricky_string() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z\\\\\"\u{1}\u{1f}\u{7f}é中/ ]{0,20}".prop_map(Value::String),
        Just(json!("\u{0}\t\n\r\u{8}\u{c}")),
        Just(json!("2025-01-01T10:00:00+08:00")),
    ]
}

/// One edit of a JSON text: replace, insert or delete one byte at `at`.
fn mutate(text: &str, at: usize, op: u8, byte: u8) -> Option<String> {
    const BYTES: &[u8] = b"\"\\{}[],: 0-.eEtfnu\x01\t9a/";
    let mut b = text.as_bytes().to_vec();
    let at = at % (b.len() + 1);
    let c = BYTES[byte as usize % BYTES.len()];
    match op % 3 {
        0 if at < b.len() => b[at] = c,
        1 => b.insert(at, c),
        _ if at < b.len() => {
            b.remove(at);
        }
        _ => return None,
    }
    String::from_utf8(b).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// The one-pass validator accepts exactly the texts serde_json accepts, before
    /// and after one random edit; on a valid envelope it finds the same records,
    /// and its cursor values are serde's.
    #[test]
    fn validator_agrees_with_serde(
        items in prop::collection::vec(prop_oneof![arb_json(), arb_tricky_string()], 0..4),
        at in any::<usize>(), op in any::<u8>(), byte in any::<u8>(), pretty in any::<bool>(),
    ) {
        let env = json!({"meta": {"code": 200}, "data": {"pagination": {"has_next_page": false}, "trackings": items}});
        let text = if pretty { serde_json::to_string_pretty(&env).unwrap() } else { env.to_string() };
        let serde_ok = |t: &str| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok();
        let ours_ok = |t: &str| envelope::record(t, None, &envelope::NO_TIMES).is_some();
        prop_assert!(ours_ok(&text), "{}", text);
        let page = paginate::parse_page(text.clone().into_bytes(), "trackings", Some("updated_at"), &envelope::NO_TIMES).unwrap();
        prop_assert_eq!(page.len(), items.len());
        for (item, v) in page.items().zip(&items) {
            prop_assert_eq!(&serde_json::from_str::<Value>(item.text).unwrap(), v);
            let expected = match v.get("updated_at") {
                None => source_aftership::json::scan::Field::Missing,
                Some(Value::Null) => source_aftership::json::scan::Field::Null,
                Some(Value::String(s)) => source_aftership::json::scan::Field::Str(s.clone().into()),
                Some(_) => source_aftership::json::scan::Field::Other,
            };
            if v.is_object() {
                prop_assert_eq!(&item.cursor, &expected);
            }
        }
        if let Some(edited) = mutate(&text, at, op, byte) {
            prop_assert_eq!(ours_ok(&edited), serde_ok(&edited), "{}", edited);
            if !serde_ok(&edited) {
                prop_assert!(paginate::parse_page(edited.into_bytes(), "trackings", None, &envelope::NO_TIMES).is_err());
            }
        }
    }

    /// Arbitrary short texts: accepted exactly when serde_json accepts them.
    #[test]
    fn validator_agrees_with_serde_on_any_text(text in "[ \t\n{}\\[\\],:\"\\\\0-9.eE+\\-tfnrulsa\u{1}]{0,24}") {
        let ours = envelope::record(&text, None, &envelope::NO_TIMES).is_some();
        prop_assert_eq!(ours, serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok(), "{:?}", text);
    }
}
