{
  "targets": [
    {
      "target_name": "xdpswitch",
      "sources": [
        "src/addon.cc",
        "src/common.cc",
        "src/object.cc",
        "src/map.cc",
        "src/link.cc",
        "src/prog_run.cc",
        "src/ringbuf.cc",
        "src/rtnl.cc",
        "src/ethtool.cc",
        "src/tap.cc",
        "src/packet.cc",
        "src/genl.cc",
        "src/pidfile.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lbpf", "-lmnl", "-lelf", "-lz"]
    }
  ]
}
