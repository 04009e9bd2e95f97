/*
 * The two socket syscalls proxyctl needs that Node does not expose.
 *
 * peerCred(fd): given the fd of a connected Unix-domain stream socket, returns the
 * credentials the kernel recorded for the peer when the connection was made: { pid, uid, gid }
 * (uid and gid are effective ids). Linux only (SO_PEERCRED). Elsewhere it returns null and
 * `supported` is false, so the TypeScript side can say that peer checks are off instead of
 * pretending they ran.
 *
 * listen(fd, backlog): listen(2) on a bound socket without accepting on it. The supervisor
 * keeps every listening socket but never accepts; Node can only listen by also starting to
 * accept. Listening early means connections that arrive while no epoch accepts (start-up, a
 * crash, a respawn) wait in the kernel backlog instead of being refused.
 */
#if defined(__linux__)
#define _GNU_SOURCE /* struct ucred */
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

static napi_value peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_value result;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "peerCred(fd): fd must be a non-negative integer");
    return NULL;
  }

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
  if (listen(fd, backlog) != 0) {
    char msg[128];
    int err = errno;
    snprintf(msg, sizeof(msg), "listen() failed: %s (errno %d)", strerror(err), err);
    napi_throw_error(env, "ERR_LISTEN", msg);
    return NULL;
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, supported;
  if (napi_create_function(env, "peerCred", NAPI_AUTO_LENGTH, peer_cred, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "peerCred", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "listen", NAPI_AUTO_LENGTH, listen_fd, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "listen", fn) != napi_ok) return NULL;
  if (napi_get_boolean(env, kSupported, &supported) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "supported", supported) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
