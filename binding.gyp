{
  "targets": [
    {
      "target_name": "proxyctl_native",
      "sources": ["native/sockets.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
