{
  "targets": [
    {
      "target_name": "hmdrv_native",
      "sources": ["devices/native/hmdrv_native.cc"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type"],
      "libraries": ["-lrt", "-lpthread"]
    }
  ]
}
