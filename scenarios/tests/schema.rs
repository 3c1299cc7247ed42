//! The JSON Schema against the built-in scenarios: each one's complete
//! (canonical) form validates in full, each file as written validates but
//! for the keys it leaves to the reference, and a bad document does not.
//!
//! The validator below covers the keywords the generated schema uses
//! (`$ref`, `type`, `properties`, `additionalProperties`, `required`,
//! `items`, `minItems`/`maxItems`, `minimum`, `const`, `enum`, `oneOf`,
//! `anyOf`, integer formats).

use hcp_scenarios::load::builtin_text;
use hcp_scenarios::{builtin, builtin_names, json_schema};
use serde_json::{Value, json};

struct Validator<'a> {
    root: &'a Value,
    /// Whether `required` is enforced (off for files that rely on defaults).
    required: bool,
}

impl Validator<'_> {
    fn check(&self, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
        let Some(schema) = schema.as_object() else {
            return;
        };
        if let Some(Value::String(target)) = schema.get("$ref") {
            let name = target.trim_start_matches("#/$defs/");
            let def = &self.root["$defs"][name];
            assert!(!def.is_null(), "dangling $ref {target}");
            self.check(def, value, path, errors);
        }
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !allowed.iter().any(|t| type_matches(t, value)) {
                errors.push(format!("{path}: {value} is not {allowed:?}"));
                return;
            }
        }
        if let Some(c) = schema.get("const")
            && c != value
        {
            errors.push(format!("{path}: {value} is not {c}"));
        }
        if let Some(Value::Array(options)) = schema.get("enum")
            && !options.contains(value)
        {
            errors.push(format!("{path}: {value} is not one of {options:?}"));
        }
        if let (Some(min), Some(v)) = (
            schema.get("minimum").and_then(Value::as_f64),
            value.as_f64(),
        ) && v < min
        {
            errors.push(format!("{path}: {v} is below {min}"));
        }
        for (key, pass) in [("oneOf", 1..=1), ("anyOf", 1..=usize::MAX)] {
            if let Some(Value::Array(options)) = schema.get(key) {
                let passing = options
                    .iter()
                    .filter(|option| {
                        let mut e = Vec::new();
                        self.check(option, value, path, &mut e);
                        e.is_empty()
                    })
                    .count();
                if !pass.contains(&passing) {
                    errors.push(format!("{path}: {passing} of the {key} options match"));
                }
            }
        }
        if let Value::Object(map) = value {
            self.check_object(schema, map, path, errors);
        }
        if let Value::Array(items) = value {
            let n = items.len() as u64;
            if schema
                .get("minItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| n < m)
                || schema
                    .get("maxItems")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| n > m)
            {
                errors.push(format!("{path}: {n} items is the wrong length"));
            }
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    self.check(item, v, &format!("{path}[{i}]"), errors);
                }
            }
        }
    }

    fn check_object(
        &self,
        schema: &serde_json::Map<String, Value>,
        map: &serde_json::Map<String, Value>,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, v) in map {
            let sub = format!("{path}.{key}");
            match (
                properties.and_then(|p| p.get(key)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => self.check(s, v, &sub, errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{sub}: unknown key")),
                (None, Some(extra)) => self.check(extra, v, &sub, errors),
                (None, None) => {}
            }
        }
        if self.required
            && let Some(Value::Array(required)) = schema.get("required")
        {
            for key in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(key) {
                    errors.push(format!("{path}.{key}: missing"));
                }
            }
        }
    }
}

fn type_matches(t: &str, value: &Value) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => false,
    }
}

fn validate(document: &Value, required: bool) -> Vec<String> {
    let schema = json_schema();
    let validator = Validator {
        root: &schema,
        required,
    };
    let mut errors = Vec::new();
    validator.check(&schema, document, "", &mut errors);
    errors
}

/// TOML as JSON, datetimes as RFC 3339 text (the form `world.start` takes).
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
        other => serde_json::to_value(other).unwrap(),
    }
}

#[test]
fn the_schema_describes_the_top_level_and_refuses_unknown_keys() {
    let schema = json_schema();
    assert_eq!(schema["additionalProperties"], json!(false));
    let top: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "name",
        "description",
        "world",
        "plant",
        "sweep",
        "policies",
        "forecaster",
    ] {
        assert!(top.contains(&key), "{key} missing from {top:?}");
    }
    for def in [
        "WorldConfig",
        "PlantConfig",
        "SiteConfig",
        "MarketStart",
        "SweepConfig",
    ] {
        assert_eq!(
            schema["$defs"][def]["additionalProperties"],
            json!(false),
            "{def}"
        );
    }
    let cooling: Vec<&Value> = schema["$defs"]["Cooling"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["const"])
        .collect();
    assert_eq!(
        cooling,
        [&json!("immersion"), &json!("hydro"), &json!("air")]
    );
}

#[test]
fn every_builtin_validates_in_full_and_as_written() {
    for name in builtin_names() {
        let loaded = builtin(name).unwrap();
        let canonical: toml::Value = toml::from_str(&loaded.canonical_toml().unwrap()).unwrap();
        let errors = validate(&toml_to_json(canonical), true);
        assert!(errors.is_empty(), "{name} (canonical): {errors:?}");

        let written: toml::Value = toml::from_str(builtin_text(name).unwrap()).unwrap();
        let errors = validate(&toml_to_json(written), false);
        assert!(errors.is_empty(), "{name} (as written): {errors:?}");
    }
}

#[test]
fn the_validator_catches_what_the_loader_refuses() {
    let bad = json!({
        "sweep": { "replications": -1, "seeds": 3 },
        "plant": { "sites": [{ "name": "A", "node": "HB_WEST", "cooling": "water" }] },
    });
    let errors = validate(&bad, true);
    let joined = errors.join("\n");
    for expected in [
        ".sweep.replications: -1 is below 0",
        ".sweep.seeds: unknown key",
        ".plant.sites[0].cap_mw: missing",
        ".plant.sites[0].cooling",
    ] {
        assert!(joined.contains(expected), "{expected} not in:\n{joined}");
    }
}
