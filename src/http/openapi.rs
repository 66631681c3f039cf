//! The OpenAPI 3.0 document of both listeners, served at `GET /openapi.json` on the admin
//! listener. A test compares its operations with the routers (tests/ops/openapi.rs), so a
//! route added without documentation fails the build's tests.

use serde_json::{json, Value};

/// `(listener, method, path)` of every documented operation; listener is `public`, `admin`
/// or `both`.
pub fn operations() -> Vec<(&'static str, String, String)> {
    let doc = document();
    let mut out = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                out.push((listener_of(op), method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

fn listener_of(op: &Value) -> &'static str {
    match op["x-listener"].as_str() {
        Some("public") => "public",
        Some("both") => "both",
        _ => "admin",
    }
}

fn skypay_op(summary: &str, description: &str) -> Value {
    skypay_op_for(summary, description, "#/components/schemas/SkyPayRequest")
}

fn skypay_op_for(summary: &str, description: &str, request: &str) -> Value {
    json!({
        "tags": ["skypay"], "x-listener": "public", "summary": summary, "description": description,
        "security": [],
        "requestBody": { "required": true, "content": {
            "application/json": { "schema": { "$ref": request } },
            "text/plain": { "schema": { "type": "string", "description": "JSON, or Base64 of the AES-128-ECB envelope" } }
        }},
        "responses": { "200": { "description": "Every outcome, errors included: read responseCode", "content": {
            "application/json": { "schema": { "$ref": "#/components/schemas/SkyPayAnswer" } },
            "text/plain": { "schema": { "type": "string", "description": "the answer in the envelope, when the request came in one" } }
        }}}
    })
}

fn admin_op(summary: &str, params: Value, body: Option<&str>, response: &str) -> Value {
    let mut op = json!({
        "tags": ["admin"], "x-listener": "admin", "summary": summary, "parameters": params,
        "responses": {
            "200": { "description": "OK", "content": { "application/json": { "schema": { "$ref": response } } } },
            "400": { "$ref": "#/components/responses/Error" },
            "401": { "$ref": "#/components/responses/Error" },
            "404": { "$ref": "#/components/responses/Error" },
            "409": { "$ref": "#/components/responses/Error" },
            "422": { "$ref": "#/components/responses/Error" }
        }
    });
    if let Some(schema) = body {
        op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": schema } } } });
    }
    op
}

/// A control number as `ControlNumber::parse` takes it: a 5-character alphanumeric prefix then
/// 8–10 digits (the server also forgives outer whitespace and lower case).
const CONTROL_NUMBER: &str = "^[A-Za-z0-9]{5}[0-9]{8,10}$";

/// Text that is not empty once trimmed: at least one character outside Rust's `char::is_whitespace`
/// (Unicode White_Space), spelled out because `\S` differs between regex dialects (U+0085,
/// U+001C–U+001F, U+FEFF) and the server trims with Rust's rule.
const NON_BLANK: &str = "[^\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]";

/// What `MobilePhone::parse` takes without separators: `09…`, `9…`, `639…`, `+639…`.
const MOBILE: &str = "^(09[0-9]{9}|9[0-9]{9}|\\+?639[0-9]{9})$";

/// An amount as `Amount::parse` takes it in a string: greater than 0, at most 2 decimal places,
/// at most 99999999.99.
const AMOUNT_TEXT: &str = "^(0*[1-9][0-9]{0,7}(\\.[0-9]{1,2})?|0+\\.(0[1-9]|[1-9][0-9]?))$";

/// An age as `parse_age` takes it: a whole number of seconds, minutes, hours or days. At most
/// six digits (999999d is some 2700 years): larger ages are of no use and overflow the
/// database's interval arithmetic.
const OLDER_THAN: &str = "^[0-9]{1,6}[smhd]$";

/// `PUT /internal/bills/{controlNumber}`: 200 for an update, 201 for a new bill.
fn register_bill(params: Value) -> Value {
    let mut op = admin_op(
        "Register a bill, or update an open one (201 when new)",
        params,
        Some("#/components/schemas/BillInput"),
        "#/components/schemas/Bill",
    );
    op["responses"]["201"] = json!({ "description": "Created", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Bill" } } } });
    op
}

/// An operation whose body may be left out (no `Content-Type`).
fn optional_body(mut op: Value) -> Value {
    op["requestBody"]["required"] = json!(false);
    op
}

/// An admin operation answering `text/csv`.
fn csv_op(summary: &str, params: Value) -> Value {
    let mut op = admin_op(summary, params, None, "#/components/schemas/Error");
    op["responses"]["200"] = json!({ "description": "CSV, one line an item", "content": { "text/csv": { "schema": { "type": "string" } } } });
    op
}

fn path_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema })
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn text() -> Value {
    json!({ "type": "string", "pattern": NO_NUL })
}

/// A non-blank string of at most `max` characters.
fn required_text(max: u32) -> Value {
    json!({ "type": "string", "pattern": NON_BLANK, "maxLength": max })
}

fn health(summary: &str, listener: &str) -> Value {
    json!({ "tags": ["health"], "x-listener": listener, "summary": summary, "security": [],
            "responses": { "200": { "description": "OK" }, "503": { "description": "not ready" } } })
}

/// The whole document.
pub fn document() -> Value {
    let cn = path_param(
        "controlNumber",
        "SKY01 + 8–10 digits",
        json!({ "type": "string", "pattern": CONTROL_NUMBER }),
    );
    let dl = path_param(
        "id",
        "the collection id",
        json!({ "type": "string", "format": "uuid" }),
    );
    let flag_id = path_param(
        "id",
        "flag id",
        json!({ "type": "integer", "format": "int64" }),
    );
    let dl_filters = json!([
        query("reason", "substring of the reason", text()),
        query("controlNumber", "control number", text()),
        query(
            "olderThan",
            "30s, 15m, 2h, 1d",
            json!({ "type": "string", "pattern": OLDER_THAN })
        )
    ]);
    let collection_filters = json!([
        query("receipt", "receipt number", text()),
        query(
            "channel",
            "payChannel code",
            json!({ "type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX })
        ),
        query(
            "controlNumber",
            "control number",
            json!({ "type": "string", "pattern": CONTROL_NUMBER })
        ),
        query(
            "id",
            "collection id",
            json!({ "type": "string", "format": "uuid" })
        )
    ]);
    let flag_filters = json!([
        query(
            "kind",
            "kind of flag",
            json!({ "type": "string", "enum": crate::domain::FlagKind::NAMES })
        ),
        query(
            "status",
            "open (default), resolved, all",
            json!({ "type": "string", "enum": ["open", "resolved", "all"] })
        ),
        query(
            "limit",
            "at most this many (clamped to 1–10000; default 500)",
            json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX })
        )
    ]);
    let date = json!({ "type": "string", "format": "date", "example": "2026-11-20" });
    let day = query("date", "a Manila day", date.clone());
    let mut required_day = day.clone();
    required_day["required"] = json!(true);
    let item_id = path_param(
        "id",
        "the item's id",
        json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX }),
    );
    let recon_filters = json!([
        day.clone(),
        query(
            "status",
            "what the match found",
            json!({ "type": "string", "enum": crate::domain::reconcile::ItemStatus::NAMES })
        ),
        query(
            "state",
            "open (default), ok, expected, resolved, all",
            json!({ "type": "string", "enum": ["open", "ok", "expected", "resolved", "all"] })
        )
    ]);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "collector: SkyPay collection processor",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The SkyPay listener (LISTEN_ADDR) answers SkyPay's inquiry and collect calls: always HTTP 200, the outcome in responseCode (docs/skypay-contract.md in the collector repository). The admin listener (ADMIN_LISTEN_ADDR) serves the core loan system and ops, with Authorization: Bearer ADMIN_TOKEN on /internal/*; an optional X-Actor header names the person for the audit log."
        },
        "tags": [
            { "name": "skypay", "description": "SkyPay listener" },
            { "name": "admin", "description": "Admin listener, bearer token" },
            { "name": "health", "description": "Both listeners, no token" }
        ],
        "security": [ { "bearer": [] } ],
        "paths": {
            "/skypay": { "post": skypay_op("Inquiry, collect or finance notice, routed on the body's action", "collectionInquiry (also collectionIcnquiry), collectionCollect (also generate711Barcode) or financeNotification (the body is then a FinanceNotification), case-insensitive.") },
            "/skypay/collection-inquiry": { "post": skypay_op("collectionInquiry", "Is this control number valid for this amount, and who is the payer? A collect here is 2003.") },
            "/skypay/collection-collect": { "post": skypay_op("collectionCollect", "The cashier took the cash: 1000 only once recorded durably. An inquiry here is 2003.") },
            "/skypay/finance-notification": { "post": skypay_op_for("financeNotification", "A settlement, recharge or withdrawal notice: 1000 only once stored (a repeat of referenceNumber + accountNo is 1000 and stored once); -1009 when it could not be stored. Another action here is 2003.", "#/components/schemas/FinanceNotification") },
            "/healthz": { "get": health("Alive (both listeners)", "both") },
            "/readyz": { "get": health("Database and broker reachable (both listeners)", "both") },
            "/metrics": { "get": { "tags": ["health"], "x-listener": "admin", "summary": "Prometheus metrics", "security": [],
                "responses": { "200": { "description": "Prometheus text format", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },
            "/openapi.json": { "get": { "tags": ["health"], "x-listener": "admin", "summary": "This document", "security": [],
                "responses": { "200": { "description": "OpenAPI 3.0", "content": { "application/json": { "schema": { "type": "object" } } } } } } },
            "/internal/bills/{controlNumber}": {
                "put": register_bill(json!([cn.clone()])),
                "get": admin_op("A bill with its collections", json!([cn.clone()]), None, "#/components/schemas/Bill")
            },
            "/internal/bills/{controlNumber}/cancel": { "post": admin_op("Cancel an open bill", json!([cn]), None, "#/components/schemas/Bill") },
            "/internal/collections": { "get": admin_op("Collections by receipt (and channel), control number or id, each with its history; at least one of receipt, controlNumber, id is required (400 otherwise)",
                collection_filters, None, "#/components/schemas/CollectionList") },
            "/internal/flags": { "get": admin_op("Flags (open by default)",
                flag_filters, None, "#/components/schemas/FlagList") },
            "/internal/flags/{id}/resolve": { "post": admin_op("Resolve a flag with a note", json!([flag_id]), Some("#/components/schemas/Note"), "#/components/schemas/Flag") },
            "/internal/dead-letters": { "get": admin_op("Dead letters", dl_filters, None, "#/components/schemas/DeadLetterList") },
            "/internal/dead-letters/{id}": { "get": admin_op("One dead letter", json!([dl.clone()]), None, "#/components/schemas/DeadLetter") },
            "/internal/dead-letters/{id}/replay": { "post": admin_op("Replay one dead letter", json!([dl.clone()]), None, "#/components/schemas/OpsReport") },
            "/internal/dead-letters/{id}/discard": { "post": admin_op("Discard one dead letter, with a reason", json!([dl]), Some("#/components/schemas/DiscardOne"), "#/components/schemas/OpsReport") },
            "/internal/dead-letters/replay": { "post": admin_op("Replay dead letters matching a filter, or all, at a bounded rate", json!([]), Some("#/components/schemas/Replay"), "#/components/schemas/OpsReport") },
            "/internal/dead-letters/discard": { "post": admin_op("Discard dead letters matching a filter, or all, with a reason", json!([]), Some("#/components/schemas/Discard"), "#/components/schemas/OpsReport") },
            "/internal/reconciliation/runs": {
                "get": admin_op("Reconciliation runs, newest first", json!([day.clone()]), None, "#/components/schemas/ReconRunList"),
                "post": optional_body(admin_op("Reconcile a Manila day against SkyPay's report now (yesterday by default); 409 when SKYPAY_API_URL is not set or SkyPay cannot be read", json!([]), Some("#/components/schemas/ReconRunInput"), "#/components/schemas/ReconRunOutcome"))
            },
            "/internal/reconciliation/items": { "get": admin_op("Reconciliation items (open exceptions by default)", recon_filters, None, "#/components/schemas/ReconItemList") },
            "/internal/reconciliation/items/{id}": { "get": admin_op("One reconciliation item, with SkyPay's row", json!([item_id.clone()]), None, "#/components/schemas/ReconItem") },
            "/internal/reconciliation/items/{id}/resolve": { "post": admin_op("Resolve an open item: adopt (a missing_ours row: the collection is recorded and posted like any other), void or escalate, with a note", json!([item_id]), Some("#/components/schemas/ReconResolve"), "#/components/schemas/ReconItem") },
            "/internal/reconciliation/export": { "get": csv_op("A day's reconciliation items as CSV", json!([required_day])) },
            "/internal/reconciliation/notices": { "get": admin_op("SkyPay's finance notices as stored, newest first (at most 500); a collection settlement (statementType 4) with its period, matched total and drift", json!([query("statementType", "4: collection settlements", json!({ "type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX }))]), None, "#/components/schemas/FinanceNoticeList") }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": { "Error": { "description": "An error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } },
            "schemas": without_nul(schemas())
        }
    })
}

/// No string the admin API stores or searches may hold U+0000 (Postgres text cannot): every
/// free-text string of the admin request schemas says so. Anchored patterns exclude it already.
const NO_NUL: &str = "^[^\u{0}]*$";

/// The admin API's request bodies (answers may echo what they refuse, NUL included).
const REQUEST_SCHEMAS: &[&str] = &[
    "BillInput",
    "Payer",
    "Note",
    "DeadLetterFilter",
    "Replay",
    "Discard",
    "DiscardOne",
    "ReconRunInput",
    "ReconResolve",
];

fn without_nul(mut schemas: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                let free_text = map.get("type") == Some(&json!("string"))
                    && !map.contains_key("format")
                    && !map.contains_key("enum");
                if free_text {
                    match map.get("pattern").and_then(Value::as_str) {
                        None => {
                            map.insert("pattern".into(), json!(NO_NUL));
                        }
                        Some(NON_BLANK) => {
                            let class = NON_BLANK.replacen("[^", "[^\u{0}", 1);
                            map.insert(
                                "pattern".into(),
                                json!(format!("^[^\u{0}]*{class}[^\u{0}]*$")),
                            );
                        }
                        Some(_) => {}
                    }
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Value::Object(map) = &mut schemas {
        for (name, schema) in map.iter_mut() {
            if REQUEST_SCHEMAS.contains(&name.as_str()) {
                walk(schema);
            }
        }
    }
    schemas
}

fn schemas() -> Value {
    let money = json!({ "type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$", "example": "3900.00" });
    // What the bulk replay and discard select: `all: true`, or a filter naming at least one
    // of its fields (a null field counts as absent); 400 otherwise.
    let bulk_selection = json!([
        { "required": ["all"], "properties": { "all": { "enum": [true] } } },
        { "required": ["filter"], "properties": { "filter": { "type": "object", "anyOf": [
            { "required": ["reason"], "properties": { "reason": { "type": "string" } } },
            { "required": ["controlNumber"], "properties": { "controlNumber": { "type": "string" } } },
            { "required": ["olderThan"], "properties": { "olderThan": { "type": "string" } } }
        ] } } }
    ]);
    let mut all = json!({
        "SkyPayRequest": { "type": "object", "required": ["userName", "action", "authentication", "controlNumber", "amount", "phone"], "properties": {
            "userName": { "type": "string", "maxLength": 50 }, "action": { "type": "string" }, "authentication": { "type": "string", "maxLength": 255 },
            "controlNumber": { "type": "string", "description": "alias contractNumber" }, "amount": { "oneOf": [{ "type": "string" }, { "type": "number" }] },
            "phone": { "type": "string", "maxLength": 50 }, "receiptNumber": { "type": "string", "maxLength": 50 },
            "collectedTime": { "type": "string", "example": "2018-06-18 17:52:10" }, "payChannel": { "oneOf": [{ "type": "integer" }, { "type": "string" }] } } },
        "FinanceNotification": { "type": "object", "required": ["userName", "action", "authentication", "referenceNumber"], "properties": {
            "userName": { "type": "string", "maxLength": 50 }, "action": { "type": "string", "example": "financeNotification" }, "authentication": { "type": "string", "maxLength": 255 },
            "transctionDate": { "type": "string", "description": "SkyPay's spelling; transactionDate is also read", "example": "2026-11-21 09:00:00" },
            "companyPrefix": { "type": "string" }, "companyName": { "type": "string" }, "accountNo": { "oneOf": [{ "type": "string" }, { "type": "integer" }] },
            "sourceAccountNo": { "oneOf": [{ "type": "string" }, { "type": "integer" }] }, "beneficiaryAccountNo": { "oneOf": [{ "type": "string" }, { "type": "integer" }] },
            "statementType": { "oneOf": [{ "type": "integer" }, { "type": "string" }], "description": "1–6; 4 = collection settlement" },
            "signType": { "type": "string", "enum": ["recharge", "reduce"] },
            "amount": { "oneOf": [{ "type": "integer", "minimum": 0 }, { "type": "string" }], "description": "SETTLEMENT_AMOUNT_UNIT: centavos (default) or pesos" },
            "currency": { "type": "string" }, "referenceNumber": { "oneOf": [{ "type": "string", "maxLength": 100 }, { "type": "integer" }] } } },
        "SkyPayAnswer": { "type": "object", "required": ["responseTime", "responseCode", "responseDescription"], "properties": {
            "responseTime": { "type": "string", "example": "2018-06-18 17:52:10.5211" },
            "responseCode": { "type": "string", "enum": ["1000", "-1000", "-1001", "-1009", "-1015", "-1026", "2001", "2002", "2003", "2004"] },
            "responseDescription": { "type": "string" }, "amount": money.clone(), "payerName": { "type": "string" },
            "payerAddress": { "type": "string", "maxLength": 255 }, "payerPhone": { "type": "string" } } },
        "Payer": { "type": "object", "required": ["lastName", "firstName", "address", "phone"], "properties": {
            "lastName": required_text(100), "firstName": required_text(100), "middleName": { "type": "string", "nullable": true },
            "suffix": { "type": "string", "nullable": true }, "address": required_text(255),
            "phone": { "type": "string", "pattern": MOBILE, "description": "a Philippine mobile number (spaces, dashes, dots and parentheses are also accepted); answered as 09XXXXXXXXX", "example": "09221008333" } } },
        "BillInput": { "type": "object", "required": ["loanRef", "amountDue", "payer"], "properties": {
            "loanRef": required_text(100),
            "amountDue": { "description": "greater than 0, at most 2 decimal places, at most 99999999.99: a string, or a JSON number. The number form is listed as an integer because a schema cannot say 'at most 2 decimal places' exactly of a binary float; 3900.5 is accepted too.",
                "oneOf": [{ "type": "string", "pattern": AMOUNT_TEXT, "example": "3900.00" }, { "type": "integer", "minimum": 1, "maximum": 99_999_999 }] },
            "allowPartial": { "type": "boolean" },
            "expiresAt": { "type": "string", "format": "date-time", "nullable": true }, "payer": { "$ref": "#/components/schemas/Payer" } } },
        "Bill": { "type": "object", "properties": {
            "controlNumber": { "type": "string" }, "loanRef": { "type": "string" }, "amountDue": money.clone(), "outstanding": money.clone(),
            "allowPartial": { "type": "boolean" }, "status": { "type": "string", "enum": ["open", "paid", "cancelled"] },
            "expiresAt": { "type": "string", "format": "date-time", "nullable": true }, "payer": { "$ref": "#/components/schemas/Payer" },
            "collections": { "type": "array", "items": { "$ref": "#/components/schemas/Collection" } } } },
        "Collection": { "type": "object", "properties": {
            "id": { "type": "string", "format": "uuid" }, "controlNumber": { "type": "string" }, "loanRef": { "type": "string" },
            "payChannel": { "type": "integer" }, "receiptNumber": { "type": "string" }, "amount": money.clone(),
            "collectedAt": { "type": "string", "format": "date-time" },
            "status": { "type": "string", "enum": crate::domain::CollectionStatus::NAMES },
            "attempts": { "type": "integer" }, "lastError": { "type": "string", "nullable": true }, "coreReference": { "type": "string", "nullable": true },
            "history": { "type": "array", "items": { "type": "object", "properties": {
                "event": { "type": "string" }, "attempt": { "type": "integer", "nullable": true }, "detail": { "type": "string", "nullable": true },
                "actor": { "type": "string", "nullable": true }, "at": { "type": "string", "format": "date-time" } } } } } },
        "CollectionList": { "type": "array", "items": { "$ref": "#/components/schemas/Collection" } },
        "Flag": { "type": "object", "properties": {
            "id": { "type": "integer" }, "kind": { "type": "string" }, "status": { "type": "string", "enum": ["open", "resolved"] },
            "collectionId": { "type": "string", "nullable": true }, "controlNumber": { "type": "string", "nullable": true },
            "receiptNumber": { "type": "string", "nullable": true }, "details": { "type": "object" },
            "resolvedBy": { "type": "string", "nullable": true }, "resolutionNote": { "type": "string", "nullable": true } } },
        "FlagList": { "type": "array", "items": { "$ref": "#/components/schemas/Flag" } },
        "Note": { "type": "object", "required": ["note"], "properties": { "note": { "type": "string", "pattern": NON_BLANK } } },
        "DeadLetter": { "type": "object", "properties": {
            "collectionId": { "type": "string", "format": "uuid" }, "receiptNumber": { "type": "string" }, "payChannel": { "type": "integer" },
            "controlNumber": { "type": "string" }, "amount": money, "attempts": { "type": "integer" }, "reason": { "type": "string", "nullable": true },
            "deadLetteredAt": { "type": "string", "format": "date-time" } } },
        "DeadLetterList": { "type": "array", "items": { "$ref": "#/components/schemas/DeadLetter" } },
        "DeadLetterFilter": { "type": "object", "nullable": true, "properties": { "reason": { "type": "string", "nullable": true },
            "controlNumber": { "type": "string", "nullable": true }, "olderThan": { "type": "string", "nullable": true, "pattern": OLDER_THAN } } },
        "Replay": { "type": "object", "anyOf": bulk_selection.clone(), "properties": { "reason": { "type": "string", "nullable": true },
            "perSecond": { "type": "integer", "nullable": true, "minimum": 0, "maximum": u32::MAX, "description": "replays per second, default 20, clamped to 1–1000" },
            "filter": { "$ref": "#/components/schemas/DeadLetterFilter" }, "all": { "type": "boolean" } } },
        "Discard": { "type": "object", "required": ["reason"], "anyOf": bulk_selection, "properties": { "reason": { "type": "string", "pattern": NON_BLANK },
            "filter": { "$ref": "#/components/schemas/DeadLetterFilter" }, "all": { "type": "boolean" } } },
        "DiscardOne": { "type": "object", "required": ["reason"], "properties": { "reason": { "type": "string", "pattern": NON_BLANK } } },
        "OpsReport": { "type": "object", "properties": { "done": { "type": "array", "items": { "type": "string" } },
            "skipped": { "type": "array", "items": { "type": "string" } }, "removedFromQueue": { "type": "integer" },
            "queueWarning": { "type": "string" } } },
        "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" }, "field": { "type": "string" } } }
    });
    if let (Some(all), Value::Object(recon)) = (all.as_object_mut(), recon_schemas()) {
        all.extend(recon);
    }
    all
}

/// Reconciliation's schemas (a `json!` of its own: one for every schema is too deep a macro).
fn recon_schemas() -> Value {
    json!({
        "ReconRunInput": { "type": "object", "properties": { "date": { "type": "string", "format": "date", "nullable": true } } },
        "ReconRun": { "type": "object", "properties": {
            "id": { "type": "integer" }, "businessDate": { "type": "string", "format": "date" },
            "trigger": { "type": "string", "enum": ["manual", "nightly", "intraday"] },
            "status": { "type": "string", "enum": ["running", "succeeded", "failed"] }, "error": { "type": "string", "nullable": true },
            "theirRows": { "type": "integer" }, "ourRows": { "type": "integer" }, "counts": { "type": "object" },
            "startedBy": { "type": "string" }, "startedAt": { "type": "string", "format": "date-time" },
            "finishedAt": { "type": "string", "format": "date-time", "nullable": true } } },
        "ReconRunList": { "type": "array", "items": { "$ref": "#/components/schemas/ReconRun" } },
        "ReconRunOutcome": { "type": "object", "properties": {
            "runId": { "type": "integer" }, "date": { "type": "string", "format": "date" }, "theirRows": { "type": "integer" },
            "notCounted": { "type": "integer" }, "ourRows": { "type": "integer" }, "counts": { "type": "object" },
            "notices": { "type": "object", "description": "SkyPay's finance notices caught up after the run (notificationInquiry), and the day's settlements checked again; never a reason for the run to fail", "properties": {
                "start": { "type": "string", "format": "date", "nullable": true }, "end": { "type": "string", "format": "date", "nullable": true },
                "fetched": { "type": "integer" }, "recorded": { "type": "integer" }, "repeated": { "type": "integer" }, "skipped": { "type": "integer" },
                "rechecked": { "type": "array", "items": { "type": "object", "properties": { "referenceNumber": { "type": "string" }, "drift": { "type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$", "example": "1.00" } } } },
                "error": { "type": "string", "nullable": true } } } } },
        "FinanceNotice": { "type": "object", "properties": {
            "id": { "type": "integer" }, "referenceNumber": { "type": "string" }, "accountNo": { "type": "string" },
            "statementType": { "type": "integer", "nullable": true }, "signType": { "type": "string", "nullable": true },
            "amount": { "type": "string", "nullable": true, "description": "in pesos (SETTLEMENT_AMOUNT_UNIT applied); body keeps what SkyPay sent" },
            "currency": { "type": "string", "nullable": true }, "transactionDate": { "type": "string", "nullable": true },
            "companyPrefix": { "type": "string", "nullable": true },
            "settlementPeriodStart": { "type": "string", "format": "date-time", "nullable": true },
            "settlementPeriodEnd": { "type": "string", "format": "date-time", "nullable": true },
            "matchedAmount": { "type": "string", "nullable": true }, "drift": { "type": "string", "nullable": true, "description": "amount − matchedAmount" },
            "receivedVia": { "type": "string", "enum": ["callback", "inquiry"] }, "body": { "type": "object" },
            "createdAt": { "type": "string", "format": "date-time" }, "updatedAt": { "type": "string", "format": "date-time" } } },
        "FinanceNoticeList": { "type": "array", "items": { "$ref": "#/components/schemas/FinanceNotice" } },
        "ReconItem": { "type": "object", "properties": {
            "id": { "type": "integer" }, "businessDate": { "type": "string", "format": "date" }, "matchKey": { "type": "string" },
            "status": { "type": "string", "enum": crate::domain::reconcile::ItemStatus::NAMES },
            "state": { "type": "string", "enum": ["ok", "expected", "open", "resolved"] },
            "collectionId": { "type": "string", "format": "uuid", "nullable": true },
            "referenceNo": { "type": "string", "nullable": true }, "controlNumber": { "type": "string", "nullable": true },
            "theirAmount": { "type": "string", "nullable": true }, "ourAmount": { "type": "string", "nullable": true },
            "theirRow": { "type": "object", "nullable": true }, "detail": { "type": "string" },
            "resolution": { "type": "string", "enum": ["adopt", "void", "escalate"], "nullable": true },
            "resolutionNote": { "type": "string", "nullable": true }, "resolvedBy": { "type": "string", "nullable": true } } },
        "ReconItemList": { "type": "array", "items": { "$ref": "#/components/schemas/ReconItem" } },
        "ReconResolve": { "type": "object", "required": ["resolution", "note"], "properties": {
            "resolution": { "type": "string", "enum": ["adopt", "void", "escalate"] }, "note": { "type": "string", "pattern": NON_BLANK } } }
    })
}
