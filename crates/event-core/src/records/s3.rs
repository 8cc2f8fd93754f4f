//! The state bucket in S3: the objects the records keep, and S3's conditional create.

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

use super::{Create, Objects};
use crate::error::{Result, aws};

/// The state bucket in S3.
pub struct S3Objects {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Objects {
    pub fn new(client: aws_sdk_s3::Client, bucket: String) -> Self {
        Self { client, bucket }
    }
}

#[async_trait]
impl Objects for S3Objects {
    async fn create(&self, key: &str, body: &[u8]) -> Result<Create> {
        let res = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(Create::Created),
            Err(e) if e.code() == Some("PreconditionFailed") => Ok(Create::Exists),
            Err(e) if e.code() == Some("ConditionalRequestConflict") => Ok(Create::Conflict),
            Err(e) => Err(aws("s3", "PutObject", e)),
        }
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.read_versioned(key).await?.map(|(body, _)| body))
    }

    async fn put(&self, key: &str, body: &[u8]) -> Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .map_err(|e| aws("s3", "PutObject", e))?;
        Ok(())
    }

    async fn put_json(&self, key: &str, body: &[u8]) -> Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .map_err(|e| aws("s3", "PutObject", e))?;
        Ok(())
    }

    async fn read_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, String)>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let etag = out.e_tag.clone().unwrap_or_default();
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| crate::error::Error::Aws {
                        service: "s3",
                        operation: "GetObject",
                        code: None,
                        message: e.to_string(),
                        transient: true,
                    })?;
                Ok(Some((bytes.to_vec(), etag)))
            }
            Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(aws("s3", "GetObject", e)),
        }
    }

    async fn replace(&self, key: &str, body: &[u8], version: Option<&str>) -> Result<bool> {
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body.to_vec()));
        let put = match version {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.code(),
                    Some("PreconditionFailed" | "ConditionalRequestConflict" | "NoSuchKey")
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(aws("s3", "PutObject", e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| aws("s3", "DeleteObject", e))?;
        Ok(())
    }
}
