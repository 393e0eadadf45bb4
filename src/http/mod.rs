//! HTTP plumbing shared by every handler: request ids, the JSON body extractor, `If-Match`,
//! `Idempotency-Key`, and the problem+json answers to framework rejections.

pub mod etag;
pub mod export;
pub mod headers;
pub mod idempotency;
pub mod json;
pub mod metrics;
pub mod page;
pub mod patch;
pub mod principal;
pub mod ready;
pub mod rejections;
pub mod request_id;
pub mod text;

pub use etag::{etag, IfMatch};
pub use idempotency::IdempotencyKey;
pub use json::ApiJson;
pub use request_id::RequestId;
