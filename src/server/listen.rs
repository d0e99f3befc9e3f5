//! The listening side, assembled from actix-server, actix-tls and actix-http as
//! actix-web's `HttpServer` assembles it (its `listen` and `listen_rustls_0_23`), with
//! one step of keyhouse's between the accept and HTTP: a connection takes a place in
//! its address's count, or is closed at once, and its stream becomes a [`Guarded`] one,
//! so that every request head has a deadline (src/connections). `HttpServer` takes no
//! such step: its streams are actix's own.

use std::future::{Future, ready};
use std::io;
use std::net::{SocketAddr, TcpListener};

use actix_http::body::{EitherBody, MessageBody};
use actix_http::error::DispatchError;
use actix_http::{Extensions, HttpService, Protocol, Request, Response};
use actix_rt::net::TcpStream;
use actix_server::{GracefulShutdownSignal, Server, ServerBuilder};
use actix_service::{
    IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt, apply_fn_factory, fn_service,
    map_config,
};
use actix_tls::accept::rustls_0_23::{Acceptor, TlsStream};
use actix_web::dev::{AppConfig, ServiceResponse};
use tokio::io::{AsyncRead, AsyncWrite};

use super::app::app;
use super::prepare::Prepared;
use crate::connections::{
    Activity, Addresses, DISCONNECT_TIMEOUT, Guarded, HEAD_DEADLINE, HEADER_TIMEOUT, KEEP_ALIVE,
    Plan, Tracked,
};

/// How long stopping waits for the requests under way.
const SHUTDOWN_SECONDS: u64 = 30;

/// Serves `prepared`'s app on `listener`, over TLS when `tls` is set. It answers no
/// signal: `serve` does (src/server/signals.rs).
pub(super) fn serve(
    listener: TcpListener,
    tls: Option<rustls::ServerConfig>,
    plan: &Plan,
    prepared: Prepared,
) -> io::Result<Server> {
    let addr = listener.local_addr()?;
    let builder = ServerBuilder::default()
        .workers(plan.workers)
        .max_concurrent_connections(plan.per_worker)
        .shutdown_timeout(SHUTDOWN_SECONDS)
        .disable_signals();
    let shutdown = builder.graceful_shutdown_signal();
    let addresses = Addresses::new(plan.per_address);
    let name = format!("keyhouse-{addr}");
    let builder = match tls {
        None => builder.listen(name, listener, move || {
            let addresses = addresses.clone();
            fn_service(move |stream| ready(admit(&addresses, stream)))
                .and_then(fn_service(|io: Guarded<TcpStream>| {
                    let peer = io.peer();
                    ready(Ok((io, Protocol::Http1, Some(peer))))
                }))
                .and_then(http(&prepared, addr, false, &shutdown, Guarded::activity).map_err(drop))
        }),
        Some(mut config) => {
            // HTTP/1.1 only, as actix-http offers without its `http2` feature.
            config.alpn_protocols.insert(0, b"http/1.1".to_vec());
            // Its default handshake timeout (3 s), as `HttpServer` leaves it.
            let acceptor = Acceptor::new(config);
            builder.listen(name, listener, move || {
                let addresses = addresses.clone();
                let activity = |io: &TlsStream<Guarded<TcpStream>>| io.get_ref().0.activity();
                fn_service(move |stream| ready(admit(&addresses, stream)))
                    .and_then(acceptor.clone().map_err(drop))
                    .and_then(fn_service(|io: TlsStream<Guarded<TcpStream>>| {
                        let peer = io.get_ref().0.peer();
                        ready(Ok((io, Protocol::Http1, Some(peer))))
                    }))
                    .and_then(http(&prepared, addr, true, &shutdown, activity).map_err(drop))
            })
        }
    }?;
    Ok(builder.run())
}

/// A new connection's stream, guarded; `Err` (closing it) when its address already
/// holds its share of the connections, or it has no peer address any more.
fn admit(addresses: &Addresses, stream: TcpStream) -> Result<Guarded<TcpStream>, ()> {
    let peer = stream.peer_addr().map_err(drop)?;
    match addresses.admit(peer.ip()) {
        Some(slot) => Ok(Guarded::new(stream, peer, slot, HEAD_DEADLINE)),
        None => {
            log::debug!("closed a connection from {peer}: its address holds its share");
            Err(())
        }
    }
}

/// The app over the stream `T`, with the settings `HttpServer` gives it, each
/// connection's [`Activity`] (read from its stream by `activity`) kept in its data.
fn http<T>(
    prepared: &Prepared,
    addr: SocketAddr,
    secure: bool,
    shutdown: &GracefulShutdownSignal,
    activity: fn(&T) -> Activity,
) -> impl ServiceFactory<
    (T, Protocol, Option<SocketAddr>),
    Config = (),
    Response = (),
    Error = DispatchError,
    InitError = (),
> + use<T>
where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let host = addr.to_string();
    // `AppConfig::new` is actix-web's own; this is the same constructor, under the name
    // actix-test uses.
    let app = map_config(app(prepared.clone()).into_factory(), move |()| {
        AppConfig::__priv_test_new(secure, host.clone(), addr)
    });
    let shutdown = shutdown.clone();
    HttpService::build()
        .graceful_shutdown_signal(move || {
            let signal = shutdown.clone();
            async move { signal.notified().await }
        })
        .keep_alive(KEEP_ALIVE)
        .client_request_timeout(HEADER_TIMEOUT)
        .client_disconnect_timeout(DISCONNECT_TIMEOUT)
        .local_addr(addr)
        .on_connect_ext(move |io: &T, data: &mut Extensions| {
            data.insert(activity(io));
        })
        .finish(apply_fn_factory(app, track))
}

/// Tells the request's connection that a request is under way, and, when its response
/// is done, that the next head is due. An error becomes its response here, so that its
/// end is seen too.
fn track<S, B>(
    req: Request,
    app: &S,
) -> impl Future<Output = Result<Response<Tracked<EitherBody<B>>>, actix_web::Error>> + use<S, B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let activity = req.conn_data::<Activity>().cloned();
    if let Some(activity) = &activity {
        activity.request_started();
    }
    let response = app.call(req);
    async move {
        let response = match response.await {
            Ok(response) => Response::from(response).map_body(|_, body| EitherBody::left(body)),
            Err(err) => Response::from(err).map_body(|_, body| EitherBody::right(body)),
        };
        Ok(response.map_body(|_, body| Tracked::new(body, activity)))
    }
}
