# Shared by bench/proxy.sh and bench/proxy-cost.sh (source it; `pids` and
# `work` must be set): the origin web server and Dante, on loopback.

# nginx serving $work/www on 127.0.0.1:PORT (EXTRA: more http-level directives, e.g. sendfile).
start_nginx() {
  local port=$1 extra=${2:-}
  mkdir -p "$work/www" "$work/nginx"
  chmod 755 "$work"
  [ -f "$work/www/small" ] || head -c 1024 /dev/urandom > "$work/www/small"
  chmod -R a+rX "$work/www"
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off; keepalive_timeout 0; $extra
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$port; root $work/www; }
}
CONF
  nginx -c "$work/nginx.conf" -g 'daemon off;' & pids+=($!)
}

# Dante (no authentication, loopback clients only) on 127.0.0.1:PORT.
start_dante() {
  local port=$1
  cat > "$work/danted.conf" <<CONF
logoutput: /dev/null
internal: 127.0.0.1 port = $port
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
CONF
  danted -f "$work/danted.conf" -p "$work/danted.pid" & pids+=($!)
}
