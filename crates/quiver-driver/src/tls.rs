//! TLS over any `futures-io` stream, with rustls 0.23 (ring provider). All rustls calls live here.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::Security;
use crate::error::{Error, Result};

/// Which server certificates `bolt+s://` accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustedCertificates {
    /// The Mozilla root CAs bundled by `webpki-roots` (the default), with host name verification.
    #[default]
    System,
    /// Only certificates signed by the CAs in these PEM files, with host name verification.
    CustomCa(Vec<PathBuf>),
    /// Any certificate (what `bolt+ssc://` always does). Encrypts, but does not authenticate the
    /// server.
    TrustAll,
}

/// A client certificate for mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// PEM file with the certificate chain.
    pub certificate_chain: PathBuf,
    /// PEM file with the private key.
    pub private_key: PathBuf,
}

/// Builds TLS sessions for one driver.
#[derive(Clone)]
pub(crate) struct TlsConnector {
    connector: futures_rustls::TlsConnector,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConnector")
    }
}

impl TlsConnector {
    /// The connector for `security` (None for plain `bolt://`).
    pub(crate) fn for_security(
        security: Security,
        trusted: &TrustedCertificates,
        client_certificate: Option<&ClientCertificate>,
    ) -> Result<Option<Self>> {
        let trust = match security {
            Security::Plain => return Ok(None),
            Security::Tls => trusted.clone(),
            Security::TlsTrustAny => TrustedCertificates::TrustAll,
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Configuration(format!("TLS: {e}")))?;
        let builder =
            match trust {
                TrustedCertificates::System => {
                    let roots = RootCertStore {
                        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                    };
                    builder.with_root_certificates(roots)
                }
                TrustedCertificates::CustomCa(paths) => {
                    let mut roots = RootCertStore::empty();
                    for path in &paths {
                        for cert in
                            CertificateDer::pem_file_iter(path).map_err(|e| pem_error(path, e))?
                        {
                            let cert = cert.map_err(|e| pem_error(path, e))?;
                            roots.add(cert).map_err(|e| {
                                Error::Configuration(format!(
                                    "TLS: bad CA certificate in {}: {e}",
                                    path.display()
                                ))
                            })?;
                        }
                    }
                    if roots.is_empty() {
                        return Err(Error::Configuration(
                            "TLS: the custom CA files contain no certificate".into(),
                        ));
                    }
                    builder.with_root_certificates(roots)
                }
                TrustedCertificates::TrustAll => builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(TrustAll(
                        provider.signature_verification_algorithms,
                    ))),
            };
        let config = match client_certificate {
            None => builder.with_no_client_auth(),
            Some(client) => {
                let chain = CertificateDer::pem_file_iter(&client.certificate_chain)
                    .map_err(|e| pem_error(&client.certificate_chain, e))?
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| pem_error(&client.certificate_chain, e))?;
                let key = PrivateKeyDer::from_pem_file(&client.private_key)
                    .map_err(|e| pem_error(&client.private_key, e))?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    Error::Configuration(format!("TLS: bad client certificate or key: {e}"))
                })?
            }
        };
        Ok(Some(TlsConnector {
            connector: futures_rustls::TlsConnector::from(Arc::new(config)),
        }))
    }

    /// Run the TLS handshake over `stream`, verifying the certificate for `host`.
    pub(crate) async fn connect<S>(&self, host: &str, stream: S) -> io::Result<MaybeTls<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = ServerName::try_from(host.to_owned()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{host}` is not a valid TLS server name: {e}"),
            )
        })?;
        let tls = self.connector.connect(name, stream).await?;
        Ok(MaybeTls::Tls(Box::new(tls)))
    }
}

fn pem_error(path: &std::path::Path, error: impl fmt::Display) -> Error {
    Error::Configuration(format!(
        "TLS: cannot read PEM file {}: {error}",
        path.display()
    ))
}

/// `bolt+ssc`: accept any certificate, but still check the handshake signatures.
#[derive(Debug)]
struct TrustAll(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for TrustAll {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// A plain or TLS stream.
pub(crate) enum MaybeTls<S> {
    Plain(S),
    Tls(Box<futures_rustls::client::TlsStream<S>>),
}

impl<S> MaybeTls<S> {
    /// The TCP stream underneath (for socket timeouts).
    pub(crate) fn tcp_mut(&mut self) -> &mut S {
        match self {
            MaybeTls::Plain(s) => s,
            MaybeTls::Tls(tls) => tls.get_mut().0,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_flush(cx),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_close(cx),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_close(cx),
        }
    }
}
