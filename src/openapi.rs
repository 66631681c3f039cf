//! The OpenAPI 3.0 document of both listeners, served at `GET /openapi.json` on the admin
//! listener. A test compares its operations with the routers (tests/api/openapi.rs), so a
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
    json!({
        "tags": ["skypay"], "x-listener": "public", "summary": summary, "description": description,
        "security": [],
        "requestBody": { "required": true, "content": {
            "application/json": { "schema": { "$ref": "#/components/schemas/SkyPayRequest" } },
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

fn path_param(name: &str, description: &str, format: Option<&str>) -> Value {
    let mut schema =
        json!({ "type": if name == "id" && format.is_none() { "integer" } else { "string" } });
    if let Some(f) = format {
        schema["format"] = json!(f);
    }
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema })
}

fn query(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } })
}

fn health(summary: &str, listener: &str) -> Value {
    json!({ "tags": ["health"], "x-listener": listener, "summary": summary, "security": [],
            "responses": { "200": { "description": "OK" }, "503": { "description": "not ready" } } })
}

/// The whole document.
pub fn document() -> Value {
    let cn = path_param("controlNumber", "SKY01 + 8–10 digits", None);
    let dl = path_param("id", "the collection id", Some("uuid"));
    let dl_filters = json!([
        query("reason", "substring of the reason"),
        query("controlNumber", "control number"),
        query("olderThan", "30s, 15m, 2h, 1d")
    ]);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "collector: SkyPay collection processor",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The SkyPay listener (LISTEN_ADDR) answers SkyPay's inquiry and collect calls: always HTTP 200, the outcome in responseCode (CONTRACT.md). The admin listener (ADMIN_LISTEN_ADDR) serves the core loan system and ops, with Authorization: Bearer ADMIN_TOKEN on /internal/*; an optional X-Actor header names the person for the audit log."
        },
        "tags": [
            { "name": "skypay", "description": "SkyPay listener" },
            { "name": "admin", "description": "Admin listener, bearer token" },
            { "name": "health", "description": "Both listeners, no token" }
        ],
        "security": [ { "bearer": [] } ],
        "paths": {
            "/skypay": { "post": skypay_op("Inquiry or collect, routed on the body's action", "collectionInquiry (also collectionIcnquiry) or collectionCollect (also generate711Barcode), case-insensitive.") },
            "/skypay/collection-inquiry": { "post": skypay_op("collectionInquiry", "Is this control number valid for this amount, and who is the payer? A collect here is 2003.") },
            "/skypay/collection-collect": { "post": skypay_op("collectionCollect", "The cashier took the cash: 1000 only once recorded durably. An inquiry here is 2003.") },
            "/healthz": { "get": health("Alive (both listeners)", "both") },
            "/readyz": { "get": health("Database and broker reachable (both listeners)", "both") },
            "/metrics": { "get": { "tags": ["health"], "x-listener": "admin", "summary": "Prometheus metrics", "security": [],
                "responses": { "200": { "description": "Prometheus text format", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },
            "/openapi.json": { "get": { "tags": ["health"], "x-listener": "admin", "summary": "This document", "security": [],
                "responses": { "200": { "description": "OpenAPI 3.0", "content": { "application/json": { "schema": { "type": "object" } } } } } } },
            "/internal/bills/{controlNumber}": {
                "put": admin_op("Register a bill, or update an open one (201 when new)", json!([cn.clone()]), Some("#/components/schemas/BillInput"), "#/components/schemas/Bill"),
                "get": admin_op("A bill with its collections", json!([cn.clone()]), None, "#/components/schemas/Bill")
            },
            "/internal/bills/{controlNumber}/cancel": { "post": admin_op("Cancel an open bill", json!([cn]), None, "#/components/schemas/Bill") },
            "/internal/collections": { "get": admin_op("Collections by receipt, control number or id, each with its history",
                json!([query("receipt", "receipt number"), query("channel", "payChannel code"), query("controlNumber", "control number"), query("id", "collection id")]),
                None, "#/components/schemas/CollectionList") },
            "/internal/flags": { "get": admin_op("Flags (open by default)",
                json!([query("kind", "replay, conflict, suspected_double_payment, refused_collect, overpayment, core_duplicate"), query("status", "open (default), resolved, all"), query("limit", "at most this many")]),
                None, "#/components/schemas/FlagList") },
            "/internal/flags/{id}/resolve": { "post": admin_op("Resolve a flag with a note", json!([path_param("id", "flag id", None)]), Some("#/components/schemas/Note"), "#/components/schemas/Flag") },
            "/internal/dead-letters": { "get": admin_op("Dead letters", dl_filters, None, "#/components/schemas/DeadLetterList") },
            "/internal/dead-letters/{id}": { "get": admin_op("One dead letter", json!([dl.clone()]), None, "#/components/schemas/DeadLetter") },
            "/internal/dead-letters/{id}/replay": { "post": admin_op("Replay one dead letter", json!([dl.clone()]), None, "#/components/schemas/OpsReport") },
            "/internal/dead-letters/{id}/discard": { "post": admin_op("Discard one dead letter, with a reason", json!([dl]), Some("#/components/schemas/Discard"), "#/components/schemas/OpsReport") },
            "/internal/dead-letters/replay": { "post": admin_op("Replay dead letters matching a filter, or all, at a bounded rate", json!([]), Some("#/components/schemas/Replay"), "#/components/schemas/OpsReport") },
            "/internal/dead-letters/discard": { "post": admin_op("Discard dead letters matching a filter, or all, with a reason", json!([]), Some("#/components/schemas/Discard"), "#/components/schemas/OpsReport") }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": { "Error": { "description": "An error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } },
            "schemas": schemas()
        }
    })
}

fn schemas() -> Value {
    let money = json!({ "type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$", "example": "3900.00" });
    json!({
        "SkyPayRequest": { "type": "object", "required": ["userName", "action", "authentication", "controlNumber", "amount", "phone"], "properties": {
            "userName": { "type": "string", "maxLength": 50 }, "action": { "type": "string" }, "authentication": { "type": "string", "maxLength": 255 },
            "controlNumber": { "type": "string", "description": "alias contractNumber" }, "amount": { "oneOf": [{ "type": "string" }, { "type": "number" }] },
            "phone": { "type": "string", "maxLength": 50 }, "receiptNumber": { "type": "string", "maxLength": 50 },
            "collectedTime": { "type": "string", "example": "2018-06-18 17:52:10" }, "payChannel": { "oneOf": [{ "type": "integer" }, { "type": "string" }] } } },
        "SkyPayAnswer": { "type": "object", "required": ["responseTime", "responseCode", "responseDescription"], "properties": {
            "responseTime": { "type": "string", "example": "2018-06-18 17:52:10.5211" },
            "responseCode": { "type": "string", "enum": ["1000", "-1000", "-1001", "-1009", "-1015", "-1026", "2001", "2002", "2003", "2004"] },
            "responseDescription": { "type": "string" }, "amount": money.clone(), "payerName": { "type": "string" },
            "payerAddress": { "type": "string", "maxLength": 255 }, "payerPhone": { "type": "string" } } },
        "Payer": { "type": "object", "required": ["lastName", "firstName", "address", "phone"], "properties": {
            "lastName": { "type": "string" }, "firstName": { "type": "string" }, "middleName": { "type": "string", "nullable": true },
            "suffix": { "type": "string", "nullable": true }, "address": { "type": "string", "maxLength": 255 }, "phone": { "type": "string", "example": "09221008333" } } },
        "BillInput": { "type": "object", "required": ["loanRef", "amountDue", "payer"], "properties": {
            "loanRef": { "type": "string" }, "amountDue": { "oneOf": [{ "type": "string" }, { "type": "number" }] }, "allowPartial": { "type": "boolean" },
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
            "status": { "type": "string", "enum": ["recorded", "published", "retrying", "posted", "dead_lettered", "replayed", "discarded"] },
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
        "Note": { "type": "object", "required": ["note"], "properties": { "note": { "type": "string" } } },
        "DeadLetter": { "type": "object", "properties": {
            "collectionId": { "type": "string", "format": "uuid" }, "receiptNumber": { "type": "string" }, "payChannel": { "type": "integer" },
            "controlNumber": { "type": "string" }, "amount": money, "attempts": { "type": "integer" }, "reason": { "type": "string", "nullable": true },
            "deadLetteredAt": { "type": "string", "format": "date-time" } } },
        "DeadLetterList": { "type": "array", "items": { "$ref": "#/components/schemas/DeadLetter" } },
        "DeadLetterFilter": { "type": "object", "properties": { "reason": { "type": "string" }, "controlNumber": { "type": "string" }, "olderThan": { "type": "string" } } },
        "Replay": { "type": "object", "properties": { "reason": { "type": "string" }, "perSecond": { "type": "integer", "maximum": 1000 },
            "filter": { "$ref": "#/components/schemas/DeadLetterFilter" }, "all": { "type": "boolean" } } },
        "Discard": { "type": "object", "required": ["reason"], "properties": { "reason": { "type": "string" },
            "filter": { "$ref": "#/components/schemas/DeadLetterFilter" }, "all": { "type": "boolean" } } },
        "OpsReport": { "type": "object", "properties": { "done": { "type": "array", "items": { "type": "string" } },
            "skipped": { "type": "array", "items": { "type": "string" } }, "removedFromQueue": { "type": "integer" },
            "queueWarning": { "type": "string" } } },
        "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" }, "field": { "type": "string" } } }
    })
}
