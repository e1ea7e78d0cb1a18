//! Pushing and fetching components in wasm-pkg-tools' layout (oci-client).
//!
//! ```text
//! manifest  application/vnd.oci.image.manifest.v1+json
//!   config  application/vnd.wasm.config.v0+json   {"architecture":"wasm","os":"wasip2",
//!                                                   "layerDigests":[..],"component":{..}}
//!   layer   application/wasm                       the component; its digest is the policy's
//! ```
//!
//! A fetch by digest asks for the blob itself; a fetch by tag reads the
//! manifest first and refuses a layer digest that is not the pin before it
//! downloads anything. Either way the downloaded bytes are hashed and
//! compared with the digest wanted before they are returned.

use std::time::Duration;

use baton_config::{OciRef, OciTarget, digest_string};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::json;

use crate::{OciError, component, parse_digest, sha256};

/// The config media type of a WebAssembly artifact (wasm-pkg-tools).
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The layer media type of a component (wasm-pkg-tools).
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The older wasm-to-oci layer type, also accepted on pull.
const WASM_LAYER_MEDIA_TYPE_V1: &str = "application/vnd.wasm.content.layer.v1+wasm";

/// How to reach registries: HTTPS, except the registries listed as
/// insecure (plain HTTP), or plain HTTP to all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    /// `HOST[:PORT]`s spoken to over plain HTTP.
    pub insecure: Vec<String>,
    /// Plain HTTP to every registry (`--insecure`).
    pub all_insecure: bool,
}

/// What a push made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The repository at the component's digest: what a config names.
    pub reference: OciRef,
    /// The component's (the layer's) digest.
    pub digest: [u8; 32],
    /// The manifest's digest, `sha256:HEX` (what `wkg oci pull` takes).
    pub manifest_digest: String,
}

/// What a fetch brought: the component's bytes, already checked against
/// the digest wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub digest: [u8; 32],
}

/// A client for OCI registries.
pub struct Registry {
    client: Client,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

impl Registry {
    pub fn new(t: &Transport) -> Registry {
        let protocol = if t.all_insecure {
            ClientProtocol::Http
        } else {
            ClientProtocol::HttpsExcept(t.insecure.clone())
        };
        let client = Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(5)),
            read_timeout: Some(Duration::from_secs(30)),
            ..ClientConfig::default()
        });
        Registry { client }
    }

    /// Pushes `wasm` (a component) to `r`, which names a tag, in
    /// wasm-pkg-tools' layout.
    pub async fn push(&self, r: &OciRef, wasm: &[u8]) -> Result<Pushed, OciError> {
        let reference = r.to_string();
        let OciTarget::Tag(_) = &r.target else {
            return Err(OciError::Registry {
                reference,
                cause: "push to a tag (oci://HOST/REPO:TAG); its digest is printed".into(),
            });
        };
        let info = component::inspect(wasm).map_err(|why| OciError::NotAPolicy {
            reference: reference.clone(),
            why,
        })?;
        let digest = sha256(wasm);
        let layer_digest = digest_string(&digest);
        let config = serde_json::to_vec(&json!({
            "architecture": "wasm",
            "os": "wasip2",
            "layerDigests": [layer_digest],
            "component": {
                "exports": info.exports,
                "imports": info.imports,
                "target": info.package,
            },
        }))
        .map_err(|e| registry_error(&reference, e))?;
        let config_digest = digest_string(&sha256(&config));
        let manifest = OciImageManifest {
            media_type: Some(OCI_IMAGE_MEDIA_TYPE.to_string()),
            config: OciDescriptor {
                media_type: WASM_CONFIG_MEDIA_TYPE.to_string(),
                digest: config_digest.clone(),
                size: config.len() as i64,
                ..OciDescriptor::default()
            },
            layers: vec![OciDescriptor {
                media_type: WASM_LAYER_MEDIA_TYPE.to_string(),
                digest: layer_digest.clone(),
                size: wasm.len() as i64,
                ..OciDescriptor::default()
            }],
            ..OciImageManifest::default()
        };
        let body = serde_json::to_vec(&manifest).map_err(|e| registry_error(&reference, e))?;
        let manifest_digest = digest_string(&sha256(&body));
        let image = self.image(r).await;
        let fail = |e: OciDistributionError| classify(&reference, r, e);
        self.client
            .push_blob(&image, wasm, &layer_digest)
            .await
            .map_err(fail)?;
        self.client
            .push_blob(&image, &config, &config_digest)
            .await
            .map_err(fail)?;
        let content_type = OCI_IMAGE_MEDIA_TYPE
            .parse()
            .map_err(|e| registry_error(&reference, e))?;
        self.client
            .push_manifest_raw(&image, body, content_type)
            .await
            .map_err(fail)?;
        Ok(Pushed {
            reference: r.at_digest(digest),
            digest,
            manifest_digest,
        })
    }

    /// Fetches the component `r` names. A reference by digest is fetched as
    /// that blob; by tag, through its manifest, refusing a layer that is not
    /// `pin` before downloading it. The bytes must hash to the digest wanted
    /// (`pin`, else the reference's, else the manifest's layer's).
    pub async fn fetch(&self, r: &OciRef, pin: Option<[u8; 32]>) -> Result<Fetched, OciError> {
        let reference = r.to_string();
        let image = self.image(r).await;
        let want = match (&r.target, pin) {
            (OciTarget::Digest(d), Some(p)) if *d != p => {
                return Err(OciError::Mismatch {
                    reference,
                    served: *d,
                    pin: p,
                });
            }
            (OciTarget::Digest(d), _) => *d,
            (OciTarget::Tag(_), _) => {
                let layer = self.wasm_layer(r, &image).await?;
                let served = parse_digest(&layer.digest).ok_or_else(|| OciError::NotAPolicy {
                    reference: reference.clone(),
                    why: format!("its layer digest {} is not sha256", layer.digest),
                })?;
                match pin {
                    Some(p) if p != served => {
                        return Err(OciError::Mismatch {
                            reference,
                            served,
                            pin: p,
                        });
                    }
                    _ => served,
                }
            }
        };
        let descriptor = OciDescriptor {
            media_type: WASM_LAYER_MEDIA_TYPE.to_string(),
            digest: digest_string(&want),
            ..OciDescriptor::default()
        };
        let mut bytes = Vec::new();
        match self.client.pull_blob(&image, &descriptor, &mut bytes).await {
            Ok(()) => {}
            // oci-client hashes what it streams too: the same refusal.
            Err(OciDistributionError::DigestError(oci_client::errors::DigestError::VerificationError {
                actual,
                ..
            })) => {
                let served = parse_digest(&actual).unwrap_or_default();
                return Err(OciError::Mismatch {
                    reference,
                    served,
                    pin: want,
                });
            }
            Err(e) => return Err(classify(&reference, r, e)),
        }
        let served = sha256(&bytes);
        if served != want {
            return Err(OciError::Mismatch {
                reference,
                served,
                pin: want,
            });
        }
        Ok(Fetched { bytes, digest: want })
    }

    /// The one component layer of the manifest `r` names.
    async fn wasm_layer(&self, r: &OciRef, image: &Reference) -> Result<OciDescriptor, OciError> {
        let reference = r.to_string();
        let (body, _digest) = self
            .client
            .pull_manifest_raw(image, &RegistryAuth::Anonymous, &[OCI_IMAGE_MEDIA_TYPE])
            .await
            .map_err(|e| classify(&reference, r, e))?;
        let manifest: OciImageManifest = serde_json::from_slice(&body).map_err(|e| OciError::NotAPolicy {
            reference: reference.clone(),
            why: format!("not an OCI image manifest ({e})"),
        })?;
        let mut layers = manifest
            .layers
            .into_iter()
            .filter(|l| l.media_type == WASM_LAYER_MEDIA_TYPE || l.media_type == WASM_LAYER_MEDIA_TYPE_V1);
        match (layers.next(), layers.next()) {
            (Some(l), None) => Ok(l),
            (None, _) => Err(OciError::NotAPolicy {
                reference,
                why: format!("its manifest has no {WASM_LAYER_MEDIA_TYPE} layer"),
            }),
            (Some(_), Some(_)) => Err(OciError::NotAPolicy {
                reference,
                why: format!("its manifest has more than one {WASM_LAYER_MEDIA_TYPE} layer"),
            }),
        }
    }

    /// oci-client's reference for `r`, with anonymous access recorded for
    /// its registry.
    async fn image(&self, r: &OciRef) -> Reference {
        let image = match &r.target {
            OciTarget::Digest(d) => {
                Reference::with_digest(r.registry.clone(), r.repository.clone(), digest_string(d))
            }
            OciTarget::Tag(t) => Reference::with_tag(r.registry.clone(), r.repository.clone(), t.clone()),
        };
        self.client
            .store_auth_if_needed(image.resolve_registry(), &RegistryAuth::Anonymous)
            .await;
        image
    }
}

fn registry_error(reference: &str, e: impl std::fmt::Display) -> OciError {
    OciError::Registry {
        reference: reference.to_string(),
        cause: e.to_string(),
    }
}

/// An oci-client error as one of ours: unreachable, not found, or other.
fn classify(reference: &str, r: &OciRef, e: OciDistributionError) -> OciError {
    let cause = e.to_string();
    let not_found = match &e {
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|x| {
            matches!(
                x.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::BlobUnknown | OciErrorCode::NameUnknown
            )
        }),
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RequestError(re) => re.status().is_some_and(|s| s.as_u16() == 404),
        _ => false,
    };
    let unreachable = match &e {
        OciDistributionError::RequestError(re) => re.is_connect() || re.is_timeout(),
        _ => false,
    };
    if not_found {
        OciError::NotFound {
            reference: reference.to_string(),
            cause,
        }
    } else if unreachable {
        OciError::Unreachable {
            reference: reference.to_string(),
            cause: format!("{}: {}", r.registry, source_chain(&e)),
            cache: Default::default(),
            pin: None,
        }
    } else {
        registry_error(reference, source_chain(&e))
    }
}

/// The error and its sources, `a: b: c`.
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        next = cause.source();
    }
    s
}
