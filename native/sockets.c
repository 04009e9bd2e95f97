/*
 * The socket syscalls proxyctl needs that Node does not expose.
 *
 * peerCred(fd): given the fd of a connected Unix-domain stream socket, returns the
 * credentials the kernel recorded for the peer when the connection was made: { pid, uid, gid }
 * (uid and gid are effective ids). Linux only (SO_PEERCRED). Elsewhere it returns null and
 * `supported` is false, so the TypeScript side can say that peer checks are off instead of
 * pretending they ran.
 *
 * reuseportSocket(host, port): a TCP socket with SO_REUSEADDR and SO_REUSEPORT, bound to an
 * IPv4 or IPv6 literal, close-on-exec. One per worker slot, so each worker has its own accept
 * queue. (node-unix-socket does this too, but 5 of its 7 platform packages are not published,
 * which makes `npm ci` refuse its lock file.)
 *
 * listen(fd, backlog): listen(2) on a bound socket without accepting on it. The supervisor
 * keeps every listening socket but never accepts; Node can only listen by also starting to
 * accept. Listening early means connections that arrive while no epoch accepts (start-up, a
 * crash, a respawn) wait in the kernel backlog instead of being refused.
 *
 * sendDatagram(path, data): one AF_UNIX datagram to `path` ('@' first: the abstract
 * namespace), for sd_notify(3); Node has no Unix datagram sockets. MSG_DONTWAIT: a receiver
 * whose queue is full gets EAGAIN thrown, never a blocked event loop.
 *
 * socketInfo(fd): what a socket handed over by systemd (LISTEN_FDS) is: its family, the
 * IPv4/IPv6 address it is bound to (getsockname), whether it is SOCK_STREAM and listening.
 *
 * dupCloexec(fd): another close-on-exec fd for the same socket, so each worker slot of an
 * adopted socket can be closed on its own.
 */
#if defined(__linux__)
#define _GNU_SOURCE /* struct ucred */
#endif
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <node_api.h>

#if defined(__linux__)
static const int kSupported = 1;
#else
static const int kSupported = 0;
#endif

static napi_value set_int(napi_env env, napi_value obj, const char *key, int64_t v) {
  napi_value n;
  if (napi_create_int64(env, v, &n) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, key, n) != napi_ok) return NULL;
  return obj;
}

/* Reads a function's only argument, a file descriptor; throws `usage` and returns 0 if it is not one. */
static int fd_arg(napi_env env, napi_callback_info info, const char *usage, int32_t *fd) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", usage);
    return 0;
  }
  return 1;
}

static napi_value peer_cred(napi_env env, napi_callback_info info) {
  int32_t fd = -1;
  napi_value result;

  if (!fd_arg(env, info, "peerCred(fd): fd must be a non-negative integer", &fd)) return NULL;

#if defined(__linux__)
  {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      char msg[128];
      int err = errno;
      snprintf(msg, sizeof(msg), "getsockopt(SO_PEERCRED) failed: %s (errno %d)", strerror(err), err);
      napi_throw_error(env, "ERR_PEERCRED", msg);
      return NULL;
    }
    if (napi_create_object(env, &result) != napi_ok) return NULL;
    if (set_int(env, result, "pid", cred.pid) == NULL) return NULL;
    if (set_int(env, result, "uid", cred.uid) == NULL) return NULL;
    if (set_int(env, result, "gid", cred.gid) == NULL) return NULL;
    return result;
  }
#else
  (void)fd;
  napi_get_null(env, &result);
  return result;
#endif
}

static napi_value throw_errno(napi_env env, const char *code, const char *what) {
  char msg[160];
  int err = errno;
  snprintf(msg, sizeof(msg), "%s failed: %s (errno %d)", what, strerror(err), err);
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value reuseport_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char host[64];
  size_t host_len = 0;
  int32_t port = -1;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  int one = 1, fd;
  napi_value result;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], host, sizeof(host), &host_len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 0 || port > 65535) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "reuseportSocket(host, port): an IP literal and a port 0..65535");
    return NULL;
  }
  memset(&addr, 0, sizeof(addr));
  if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&addr)->sin_addr) == 1) {
    struct sockaddr_in *a = (struct sockaddr_in *)&addr;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    addr_len = sizeof(*a);
  } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&addr)->sin6_addr) == 1) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    addr_len = sizeof(*a);
  } else {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "reuseportSocket: host is not an IPv4 or IPv6 literal");
    return NULL;
  }
  fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "ERR_SOCKET", "socket()");
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    int err = errno;
    close(fd);
    errno = err;
    return throw_errno(env, "ERR_SOCKET", "setsockopt(SO_REUSEPORT)");
  }
  if (bind(fd, (struct sockaddr *)&addr, addr_len) != 0) {
    int err = errno;
    close(fd);
    errno = err;
    return throw_errno(env, err == EADDRINUSE ? "EADDRINUSE" : "ERR_BIND", "bind()");
  }
  if (napi_create_int32(env, fd, &result) != napi_ok) return NULL;
  return result;
}

static napi_value listen_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1, backlog = 0;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_get_value_int32(env, argv[1], &backlog) != napi_ok || backlog < 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "listen(fd, backlog): fd >= 0 and backlog >= 1 required");
    return NULL;
  }
  if (listen(fd, backlog) != 0) return throw_errno(env, "ERR_LISTEN", "listen()");
  return NULL;
}

/* usocket makes its sockets without SOCK_CLOEXEC: every process the supervisor spawns would
 * inherit them (its listening RPC socket stays alive in orphaned epochs after a crash). */
static napi_value set_cloexec(napi_env env, napi_callback_info info) {
  int32_t fd = -1;
  int flags;

  if (!fd_arg(env, info, "setCloexec(fd): fd >= 0 required", &fd)) return NULL;
  flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) return throw_errno(env, "ERR_FCNTL", "fcntl(F_SETFD)");
  return NULL;
}

static napi_value send_datagram(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  struct sockaddr_un addr;
  size_t path_len = 0;
  void *data = NULL;
  size_t data_len = 0;
  bool is_buffer = false;
  socklen_t addr_len;
  ssize_t sent;
  int fd, err;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], addr.sun_path, sizeof(addr.sun_path), &path_len) != napi_ok ||
      napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[1], &data, &data_len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sendDatagram(path, data): a socket path and a Buffer");
    return NULL;
  }
  if (path_len < 2 || path_len >= sizeof(addr.sun_path) - 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "sendDatagram: the path is empty or longer than a Unix socket path may be");
    return NULL;
  }
  /* An abstract address starts with a NUL instead of '@' and is exactly as long as given. */
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + (addr.sun_path[0] == '\0' ? 0 : 1));
  fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "ERR_SOCKET", "socket(AF_UNIX, SOCK_DGRAM)");
  sent = sendto(fd, data, data_len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len);
  err = errno;
  close(fd);
  if (sent < 0) {
    errno = err;
    return throw_errno(env, err == ECONNREFUSED ? "ECONNREFUSED" : err == ENOENT ? "ENOENT" : err == EAGAIN ? "EAGAIN" : "ERR_SENDTO", "sendto()");
  }
  return NULL;
}

static napi_value socket_info(napi_env env, napi_callback_info info) {
  int32_t fd = -1;
  struct sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  int type = 0, accepting = 0;
  socklen_t opt_len = sizeof(int);
  char host[INET6_ADDRSTRLEN] = "";
  int port = 0;
  const char *family = "other";
  napi_value result, v;

  if (!fd_arg(env, info, "socketInfo(fd): fd >= 0 required", &fd)) return NULL;
  memset(&addr, 0, sizeof(addr));
  if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0) return throw_errno(env, errno == ENOTSOCK ? "ENOTSOCK" : "ERR_GETSOCKNAME", "getsockname()");
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &opt_len) != 0) return throw_errno(env, "ERR_GETSOCKOPT", "getsockopt(SO_TYPE)");
  opt_len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &opt_len) != 0) return throw_errno(env, "ERR_GETSOCKOPT", "getsockopt(SO_ACCEPTCONN)");
  if (addr.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&addr;
    family = "inet";
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
    family = "inet6";
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    port = ntohs(a->sin6_port);
  } else if (addr.ss_family == AF_UNIX) {
    family = "unix";
  }
  if (napi_create_object(env, &result) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, family, NAPI_AUTO_LENGTH, &v) != napi_ok || napi_set_named_property(env, result, "family", v) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, host, NAPI_AUTO_LENGTH, &v) != napi_ok || napi_set_named_property(env, result, "host", v) != napi_ok) return NULL;
  if (set_int(env, result, "port", port) == NULL) return NULL;
  if (napi_get_boolean(env, type == SOCK_STREAM, &v) != napi_ok || napi_set_named_property(env, result, "stream", v) != napi_ok) return NULL;
  if (napi_get_boolean(env, accepting != 0, &v) != napi_ok || napi_set_named_property(env, result, "listening", v) != napi_ok) return NULL;
  return result;
}

static napi_value dup_cloexec(napi_env env, napi_callback_info info) {
  int32_t fd = -1;
  int copy;
  napi_value result;

  if (!fd_arg(env, info, "dupCloexec(fd): fd >= 0 required", &fd)) return NULL;
  copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return throw_errno(env, "ERR_FCNTL", "fcntl(F_DUPFD_CLOEXEC)");
  if (napi_create_int32(env, copy, &result) != napi_ok) return NULL;
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, supported;
  if (napi_create_function(env, "peerCred", NAPI_AUTO_LENGTH, peer_cred, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "peerCred", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "reuseportSocket", NAPI_AUTO_LENGTH, reuseport_socket, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "reuseportSocket", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "listen", NAPI_AUTO_LENGTH, listen_fd, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "listen", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "setCloexec", NAPI_AUTO_LENGTH, set_cloexec, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "setCloexec", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "sendDatagram", NAPI_AUTO_LENGTH, send_datagram, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sendDatagram", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "socketInfo", NAPI_AUTO_LENGTH, socket_info, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "socketInfo", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "dupCloexec", NAPI_AUTO_LENGTH, dup_cloexec, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "dupCloexec", fn) != napi_ok) return NULL;
  if (napi_get_boolean(env, kSupported, &supported) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "supported", supported) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
