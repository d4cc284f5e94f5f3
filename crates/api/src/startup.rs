//! Building and running the HTTP server.

use crate::auth::{PasswordHasher, TokenService};
use crate::config::Settings;
use crate::error;
use crate::fallback::{self, KnownPaths};
use crate::gateway::protocol::close;
use crate::gateway::takeover;
use crate::gateway::{Bridge, Hub};
use crate::limits::{Limits, MessageLimit};
use crate::media::MediaStore;
use crate::middleware::{api_trailing_slash, page_headers, request_id_header};
use crate::monitoring::{Metrics, Snapshot};
use crate::telemetry::RequestLog;
use crate::{openapi, routes, spa};
use actix_cors::Cors;
use actix_http::{HttpService, KeepAlive};
use actix_service::{map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::body::MessageBody;
use actix_web::dev::{
    AppConfig, Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse,
};
use actix_web::http::header;
use actix_web::middleware::Condition;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpResponse};
use anyhow::Context;
use hearth_db::{Db, PoolSettings};
use std::net::TcpListener;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio_util::task::TaskTracker;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

/// What every request handler can reach.
pub struct AppState {
    pub db: Db,
    pub tokens: TokenService,
    pub hasher: PasswordHasher,
    pub hub: Hub,
    /// Chat messages per user, whatever the transport.
    pub messages: MessageLimit,
    /// The REST endpoints' rate limits.
    pub limits: Limits,
    pub metrics: Metrics,
    /// Uploaded images (`HEARTH_MEDIA_DIR`).
    pub media: MediaStore,
    pub settings: Settings,
}

/// How long a shutdown waits for the sockets' closing handshakes (each lingers at most a second
/// for its client), and then for requests in flight (actix's shutdown timeout).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A built server, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// `GET /metrics`, on a listener of its own (`HEARTH_METRICS_ADDR`).
    metrics_server: Option<(u16, Server)>,
    /// The WebSocket connections, which live in tasks of their own once their handshake is
    /// answered (`gateway::takeover`): a shutdown waits for them as for HTTP requests.
    sockets: TaskTracker,
}

impl Application {
    /// Connects to the database, applies pending migrations and binds the listener
    /// (`settings.port == 0` picks a free port, as tests do).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = Db::connect(
            settings.database_url.as_str(),
            &PoolSettings {
                max_size: settings.db_pool_size,
                timeout: settings.db_timeout,
            },
        )?;
        hearth_db::migrate::run_pending(&db)
            .await
            .context("cannot apply database migrations")?;
        if settings.jwt_secret_generated {
            tracing::warn!(
                "HEARTH_JWT_SECRET is not set: using a random secret for this run only. \
                 Every session ends when the server restarts. Set HEARTH_JWT_SECRET \
                 (required when HEARTH_ENV=production)."
            );
        }
        match settings.static_dir.as_deref() {
            Some(dir) if spa::is_built(dir) => {
                tracing::info!(dir = %dir.display(), "serving the SPA at /");
            }
            Some(dir) => tracing::warn!(
                dir = %dir.display(),
                "no built SPA here (run `make run` or `npm --prefix frontend run build`); \
                 / redirects to the API documentation"
            ),
            None => {}
        }
        let media = MediaStore::open(&settings.media_dir)?;
        let metrics = if settings.metrics_addr.is_some() {
            Metrics::enabled()?
        } else {
            Metrics::disabled()
        };
        let hub = Hub::new(db.clone(), metrics.clone(), settings.presence_limit);
        if let Some(url) = &settings.redis_url {
            let upkeep = upkeep_db(&settings)?;
            hub.set_bridge(Bridge::start(
                url,
                &settings.redis_prefix,
                hub.clone(),
                upkeep,
            )?);
        }
        let state = web::Data::new(AppState {
            tokens: TokenService::new(
                &settings.jwt_secret,
                settings.access_token_ttl,
                settings.refresh_token_ttl,
            ),
            hasher: PasswordHasher::new(settings.hash_concurrency)?,
            hub,
            messages: MessageLimit::new(settings.ws_rate_per_sec, settings.ws_rate_burst, &metrics),
            limits: Limits::new(&settings.limits, &metrics),
            metrics,
            media,
            db,
            settings,
        });

        let listener = TcpListener::bind((state.settings.host.as_str(), state.settings.port))
            .with_context(|| {
                format!(
                    "cannot listen on {}:{}",
                    state.settings.host, state.settings.port
                )
            })?;
        let addr = listener.local_addr()?;
        let port = addr.port();
        let app_state = state.clone();
        let sockets = TaskTracker::new();
        let tracked = sockets.clone();
        // What actix-web's `HttpServer` builds, plus an upgrade service: WebSocket connections
        // leave the HTTP dispatcher (and its buffers) once their handshake is answered
        // (`gateway::takeover`).
        let server = Server::build()
            .workers(state.settings.workers)
            .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
            // Signals are handled in `run_until_stopped`, which closes sockets first.
            .disable_signals()
            .listen("hearth", listener, move || {
                let app = build_app(app_state.clone())
                    .into_factory()
                    .map_err(|e: actix_web::Error| e.error_response());
                HttpService::build()
                    .keep_alive(KeepAlive::Timeout(Duration::from_secs(5)))
                    .client_request_timeout(Duration::from_secs(5))
                    .client_disconnect_timeout(Duration::from_secs(1))
                    // Sockets push small frames as they happen: without this, Nagle's algorithm
                    // holds a frame back until the client acknowledges the previous one.
                    .tcp_nodelay(true)
                    .local_addr(addr)
                    .upgrade(takeover::factory(
                        {
                            let state = app_state.clone();
                            move || build_app(state.clone())
                        },
                        tracked.clone(),
                    ))
                    // The host is only a fallback for requests without a `Host` header.
                    .finish(map_config(app, |()| AppConfig::default()))
                    .tcp()
            })?
            .run();
        tracing::info!(
            address = %format!("http://{}:{port}", state.settings.host),
            "Hearth is listening"
        );
        let metrics_server = match state.settings.metrics_addr {
            Some(addr) => Some(metrics_server(addr, state.clone())?),
            None => None,
        };
        let upkeep = upkeep_db(&state.settings)?;
        tokio::spawn(housekeeping(
            Arc::downgrade(&state.clone().into_inner()),
            upkeep,
        ));
        tokio::spawn(presence_ticks(Arc::downgrade(&state.clone().into_inner())));
        Ok(Self {
            port,
            server,
            state,
            metrics_server,
            sockets,
        })
    }

    /// The port `GET /metrics` is served on, when metrics are on.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The shared state (tests use its database handle).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM (or the handle) stops the server: sockets are closed with
    /// 1001, the listener stops accepting, and in-flight requests get up to 10 s to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let hub = self.state.hub.clone();
        let sockets = self.sockets.clone();
        let watcher = tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            // The listener stops accepting before the sockets hear 1001: a client that
            // reconnects at once must be refused, not served by an instance on its way out.
            // (Pausing deregisters the listener; stopping then closes it.)
            handle.pause().await;
            hub.close_all(close::GOING_AWAY);
            // The sockets' closing handshakes, before the workers (which run them) stop.
            sockets.close();
            if tokio::time::timeout(SHUTDOWN_GRACE, sockets.wait())
                .await
                .is_err()
            {
                tracing::warn!(open = sockets.len(), "sockets still open at shutdown");
            }
            handle.stop(true).await;
        });
        // The metrics listener lives as long as the application's (it is stopped with it).
        let metrics = self.metrics_server.map(|(_, server)| {
            let handle = server.handle();
            (tokio::spawn(server), handle)
        });
        let result = self.server.await;
        watcher.abort();
        if let Some((running, handle)) = metrics {
            handle.stop(false).await;
            let _ = running.await;
        }
        result
    }
}

/// A connection for background work (housekeeping, the Redis heartbeat's checks), which runs
/// on the main runtime, not on the request workers. One it took from the request pool would
/// stay in that pool with its I/O driven from the main runtime, and every request that used
/// it afterwards would pay a wake-up across threads (is_member lost 40 % to one).
fn upkeep_db(settings: &Settings) -> anyhow::Result<Db> {
    Ok(Db::connect(
        settings.database_url.as_str(),
        &PoolSettings {
            max_size: 1,
            timeout: settings.db_timeout,
        },
    )?)
}

/// Periodic upkeep while the application lives: rate-limit state of keys that are whole again
/// is dropped every minute, histogram samples are folded into buckets every 5 s (metrics on),
/// the member counts of popular servers that quietened down go back to their rows every 10 s,
/// and user events past their retention are pruned every hour (and once at start).
async fn housekeeping(state: Weak<AppState>, db: Db) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    for round in 0_u64.. {
        tick.tick().await;
        let Some(state) = state.upgrade() else { return };
        state.metrics.upkeep();
        if round % 12 == 11 {
            state.limits.shrink();
            state.messages.shrink();
        }
        if round % 2 == 1 && state.settings.fold_member_counts {
            if let Err(e) = hearth_db::servers::fold_member_counts(&db, 100).await {
                tracing::warn!(error = %e, "cannot fold member counts");
            }
        }
        if round % 720 == 0 {
            let retention = state.settings.event_retention;
            match hearth_db::user_events::prune(&db, retention, 10_000).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "pruned old user events"),
                Err(e) => tracing::warn!(error = %e, "cannot prune user events"),
            }
        }
    }
}

/// Large channels hear their online count, at most once per tick, while the application lives.
async fn presence_ticks(state: Weak<AppState>) {
    let mut tick = tokio::time::interval(crate::gateway::PRESENCE_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(state) = state.upgrade() else { return };
        state.hub.presence_tick();
        state.hub.news_tick();
    }
}

/// `GET /metrics` on `addr`: Prometheus' text format, one worker, nothing else served.
fn metrics_server(
    addr: std::net::SocketAddr,
    state: web::Data<AppState>,
) -> anyhow::Result<(u16, Server)> {
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "metrics are served on a non-loopback address: keep it off the public network");
    }
    let listener = TcpListener::bind(addr)
        .with_context(|| format!("cannot listen on {addr} for metrics (HEARTH_METRICS_ADDR)"))?;
    let port = listener.local_addr()?.port();
    let server = actix_web::HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(render_metrics))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    tracing::info!(address = %format!("http://{addr}/metrics"), "serving metrics");
    Ok((port, server))
}

async fn render_metrics(state: web::Data<AppState>) -> HttpResponse {
    let (sockets_open, queue_depth, queue_depth_max) = state.hub.queue_stats();
    let pool = state.db.pool_status();
    let page = state.metrics.render(Snapshot {
        sockets_open,
        queue_depth,
        queue_depth_max,
        db_pool_size: pool.size,
        db_pool_in_use: pool.in_use,
        db_pool_waiting: pool.waiting,
    });
    match page {
        Some(page) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(page),
        None => HttpResponse::NotFound().finish(),
    }
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .supports_credentials()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::HeaderName::from_static("x-request-id")])
        .max_age(3600)
}

/// The whole application: routes with their spec, documentation, middleware.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let settings = &state.settings;
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .app_data(
            web::JsonConfig::default()
                .limit(settings.body_limit)
                .error_handler(error::json_error),
        )
        .app_data(web::PayloadConfig::new(settings.body_limit))
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .configure(routes::configure)
        .split_for_parts();
    let known_paths = web::Data::new(KnownPaths::from_document(&api));
    let cors = cors(&settings.cors_origins);
    let spa_dir = settings
        .static_dir
        .as_deref()
        .filter(|dir| spa::is_built(dir));
    let app = app
        .app_data(state.clone())
        .app_data(known_paths)
        .service(SwaggerUi::new("/api/docs/schema/ui/{_:.*}").url("/api/docs/schema/", api))
        .service(web::redirect("/api/docs/", "/api/docs/schema/ui/"));
    // Without a built SPA, `/` shows the API documentation instead.
    let app = match spa_dir {
        Some(dir) => app.service(spa::service(dir)),
        None => app.route(
            "/",
            web::get().to(|| async {
                HttpResponse::Found()
                    .insert_header((header::LOCATION, "/api/docs/"))
                    .finish()
            }),
        ),
    };
    app.default_service(web::to(fallback::no_route))
        .wrap(from_fn(page_headers))
        .wrap(from_fn(api_trailing_slash))
        .wrap(cors)
        .wrap(
            DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::REFERRER_POLICY, "no-referrer"))
                .add((header::X_FRAME_OPTIONS, "DENY")),
        )
        .wrap(from_fn(request_id_header))
        .wrap(Condition::new(
            settings.metrics_addr.is_some(),
            from_fn(crate::middleware::count_request),
        ))
        .wrap(TracingLogger::<RequestLog>::new())
}
