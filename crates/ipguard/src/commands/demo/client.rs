//! A thin client for the parts of the REST API the demo drives. Requests go
//! over HTTP to the real service so that every generated row passes through
//! the same validation, workflow and audit log as a user's would.

use anyhow::{Context, anyhow};
use serde::Serialize;
use serde_json::Value;

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// POSTs JSON with an API key and returns the JSON answer; any non-2xx
    /// status is an error carrying the problem document.
    pub async fn post<T: Serialize + ?Sized>(
        &self,
        key: Option<&str>,
        path: &str,
        body: &T,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        answer(path, request.send().await).await
    }

    /// POSTs files as a multipart form, each under the field `files`.
    pub async fn post_files(
        &self,
        key: &str,
        path: &str,
        files: Vec<(String, Vec<u8>)>,
    ) -> anyhow::Result<Value> {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                "files",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        }
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .multipart(form);
        answer(path, request.send().await).await
    }

    /// POSTs a CSV file of notices with the declarations as query flags.
    pub async fn post_csv(&self, key: &str, path: &str, csv: String) -> anyhow::Result<Value> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(csv);
        answer(path, request.send().await).await
    }
}

async fn answer(
    path: &str,
    sent: Result<reqwest::Response, reqwest::Error>,
) -> anyhow::Result<Value> {
    let response = sent.with_context(|| format!("POST {path}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("POST {path}: reading the answer"))?;
    if !status.is_success() {
        return Err(anyhow!("POST {path} answered {status}: {text}"));
    }
    serde_json::from_str(&text).with_context(|| format!("POST {path}: answer is not JSON: {text}"))
}

/// An integer field of an answer, e.g. a created object's id.
pub fn int(value: &Value, field: &str) -> anyhow::Result<i64> {
    value
        .get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| anyhow!("answer has no integer `{field}`: {value}"))
}

/// A string field of an answer.
pub fn text<'a>(value: &'a Value, field: &str) -> anyhow::Result<&'a str> {
    value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("answer has no string `{field}`: {value}"))
}
