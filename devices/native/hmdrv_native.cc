// hmdrv native core: the machine primitives that JavaScript cannot express.
//
//  - memfdCreate(name, size) -> fd         anonymous shared memory (memfd_create + ftruncate)
//  - mapFd(fd, size, offset?) -> SharedArrayBuffer  MAP_SHARED mapping of an fd (a page-aligned
//                                          window of it), visible to every process that maps the
//                                          same file: how a container sees only its granted pages
//  - futexWait(i32, index, expected, timeoutMs) -> 0 woken/EINTR, 1 value differed, 2 timed out
//  - futexWake(i32, index, count) -> number of waiters woken
//  - doorbellOpen(i32, index, callback) -> id   a thread that sleeps on a futex word and calls
//                                          `callback` on the event loop whenever the word changes
//  - doorbellClose(id)
//
// Why raw V8 rather than N-API: Node 20's N-API cannot wrap external memory in a
// SharedArrayBuffer, and V8's Atomics.wait/notify keep their waiter lists per process,
// so a cross-process wake must be a plain (non-PRIVATE) FUTEX_WAKE on MAP_SHARED memory.
// The module is context-aware (NODE_MODULE_INIT), so worker threads may load it too.

#include <node.h>
#include <uv.h>
#include <v8.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

using v8::ArrayBuffer;
using v8::BackingStore;
using v8::Context;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::Global;
using v8::HandleScope;
using v8::Int32Array;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::Object;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

void Throw(Isolate* iso, const std::string& msg) {
  iso->ThrowException(v8::Exception::Error(String::NewFromUtf8(iso, msg.c_str()).ToLocalChecked()));
}

void ThrowErrno(Isolate* iso, const char* what, int err) {
  std::string msg = std::string(what) + ": " + strerror(err);
  Local<Value> e = v8::Exception::Error(String::NewFromUtf8(iso, msg.c_str()).ToLocalChecked());
  Local<Context> ctx = iso->GetCurrentContext();
  e.As<Object>()->Set(ctx, String::NewFromUtf8Literal(iso, "errno"), Number::New(iso, -err)).Check();
  iso->ThrowException(e);
}

long SysFutex(int32_t* addr, int op, int32_t val, const struct timespec* ts) {
  return syscall(SYS_futex, addr, op, val, ts, nullptr, 0);
}

// Resolves (Int32Array, index) to a word address and keeps the backing store alive.
bool WordAt(const FunctionCallbackInfo<Value>& args, int32_t** out,
            std::shared_ptr<BackingStore>* keep = nullptr) {
  Isolate* iso = args.GetIsolate();
  if (!args[0]->IsInt32Array() || !args[1]->IsNumber()) {
    Throw(iso, "expected (Int32Array, index)");
    return false;
  }
  Local<Int32Array> arr = args[0].As<Int32Array>();
  double idx = args[1].As<Number>()->Value();
  if (idx < 0 || idx >= static_cast<double>(arr->Length())) {
    Throw(iso, "futex index out of range");
    return false;
  }
  std::shared_ptr<BackingStore> bs = arr->Buffer()->GetBackingStore();
  *out = reinterpret_cast<int32_t*>(static_cast<char*>(bs->Data()) + arr->ByteOffset()) +
         static_cast<size_t>(idx);
  if (keep) *keep = bs;
  return true;
}

void MemfdCreate(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  String::Utf8Value name(iso, args[0]);
  double size = args[1]->IsNumber() ? args[1].As<Number>()->Value() : 0;
  int fd = static_cast<int>(syscall(SYS_memfd_create, *name ? *name : "hmdrv", 1u /* MFD_CLOEXEC */));
  if (fd < 0) return ThrowErrno(iso, "memfd_create", errno);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(iso, "ftruncate", err);
  }
  args.GetReturnValue().Set(fd);
}

void MapFd(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  if (!args[0]->IsNumber() || !args[1]->IsNumber()) return Throw(iso, "expected (fd, size)");
  int fd = static_cast<int>(args[0].As<Number>()->Value());
  size_t len = static_cast<size_t>(args[1].As<Number>()->Value());
  double off = args[2]->IsNumber() ? args[2].As<Number>()->Value() : 0;
  if (len == 0) return Throw(iso, "mapFd: size must be > 0");
  if (off < 0 || static_cast<long>(off) % sysconf(_SC_PAGESIZE) != 0) return Throw(iso, "mapFd: offset must be page-aligned");
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(off));
  if (p == MAP_FAILED) return ThrowErrno(iso, "mmap", errno);
  std::unique_ptr<BackingStore> bs = SharedArrayBuffer::NewBackingStore(
      p, len, [](void* data, size_t n, void*) { munmap(data, n); }, nullptr);
  args.GetReturnValue().Set(SharedArrayBuffer::New(iso, std::move(bs)));
}

// Page-aligned, zeroed heap memory as a SharedArrayBuffer (for threads of one process). A plain
// `new SharedArrayBuffer` is only 16-byte aligned, so ring records laid out on 64-byte
// boundaries of the buffer could straddle cache lines.
void AllocAligned(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  if (!args[0]->IsNumber()) return Throw(iso, "expected (size)");
  size_t len = static_cast<size_t>(args[0].As<Number>()->Value());
  if (len == 0) return Throw(iso, "allocAligned: size must be > 0");
  void* p = nullptr;
  if (posix_memalign(&p, 4096, len) != 0) return ThrowErrno(iso, "posix_memalign", ENOMEM);
  memset(p, 0, len);
  std::unique_ptr<BackingStore> bs = SharedArrayBuffer::NewBackingStore(
      p, len, [](void* data, size_t, void*) { free(data); }, nullptr);
  args.GetReturnValue().Set(SharedArrayBuffer::New(iso, std::move(bs)));
}

void FutexWait(const FunctionCallbackInfo<Value>& args) {
  int32_t* addr;
  if (!WordAt(args, &addr)) return;
  int32_t expected = args[2]->Int32Value(args.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  double ms = args[3]->IsNumber() ? args[3].As<Number>()->Value() : -1;
  struct timespec ts;
  struct timespec* tsp = nullptr;
  if (ms >= 0) {
    ts.tv_sec = static_cast<time_t>(ms / 1000);
    ts.tv_nsec = static_cast<long>((ms - ts.tv_sec * 1000.0) * 1e6);
    tsp = &ts;
  }
  long r = SysFutex(addr, FUTEX_WAIT, expected, tsp);
  int result = 0;
  if (r != 0) result = errno == EAGAIN ? 1 : errno == ETIMEDOUT ? 2 : 0;
  args.GetReturnValue().Set(result);
}

void FutexWake(const FunctionCallbackInfo<Value>& args) {
  int32_t* addr;
  if (!WordAt(args, &addr)) return;
  int32_t count = args[2]->IsNumber() ? args[2]->Int32Value(args.GetIsolate()->GetCurrentContext()).FromMaybe(INT_MAX) : INT_MAX;
  long r = SysFutex(addr, FUTEX_WAKE, count, nullptr);
  args.GetReturnValue().Set(static_cast<int32_t>(r < 0 ? 0 : r));
}

// ---- doorbells ------------------------------------------------------------------------------

struct Doorbell {
  int id;
  Isolate* isolate;
  Global<Function> callback;
  Global<Context> context;
  std::shared_ptr<BackingStore> keep;
  int32_t* addr;
  uv_async_t async;
  std::thread thread;
  std::atomic<bool> stop{false};
  struct EnvCleanup* cleanup = nullptr;
};

std::mutex g_mu;
std::map<int, Doorbell*> g_doorbells;
int g_next_id = 1;

void DoorbellThread(Doorbell* d) {
  int32_t seen = __atomic_load_n(d->addr, __ATOMIC_ACQUIRE);
  while (!d->stop.load(std::memory_order_acquire)) {
    int32_t now = __atomic_load_n(d->addr, __ATOMIC_ACQUIRE);
    if (now != seen) {
      seen = now;
      uv_async_send(&d->async);  // coalesces: several rings between two loop turns = one call
      continue;
    }
    SysFutex(d->addr, FUTEX_WAIT, seen, nullptr);
  }
}

void OnRing(uv_async_t* handle) {
  Doorbell* d = static_cast<Doorbell*>(handle->data);
  Isolate* iso = d->isolate;
  HandleScope scope(iso);
  Local<Context> ctx = d->context.Get(iso);
  Context::Scope cscope(ctx);
  Local<Function> cb = d->callback.Get(iso);
  node::async_context actx{0, 0};
  node::MakeCallback(iso, ctx->Global(), cb, 0, nullptr, actx);
}

void DoorbellOpen(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  int32_t* addr;
  std::shared_ptr<BackingStore> keep;
  if (!WordAt(args, &addr, &keep)) return;
  if (!args[2]->IsFunction()) return Throw(iso, "doorbellOpen: callback must be a function");
  Doorbell* d = new Doorbell();
  d->isolate = iso;
  d->callback.Reset(iso, args[2].As<Function>());
  d->context.Reset(iso, iso->GetCurrentContext());
  d->keep = keep;
  d->addr = addr;
  d->async.data = d;
  uv_loop_t* loop = node::GetCurrentEventLoop(iso);
  uv_async_init(loop, &d->async, OnRing);
  uv_unref(reinterpret_cast<uv_handle_t*>(&d->async));
  {
    std::lock_guard<std::mutex> lock(g_mu);
    d->id = g_next_id++;
    g_doorbells[d->id] = d;
  }
  d->thread = std::thread(DoorbellThread, d);
  args.GetReturnValue().Set(d->id);
}

void DestroyDoorbell(Doorbell* d) {
  d->stop.store(true, std::memory_order_release);
  // Change nothing in the shared word: wake the thread; it sees `stop` and exits.
  SysFutex(d->addr, FUTEX_WAKE, INT_MAX, nullptr);
  while (d->thread.joinable()) {
    // The thread may have re-entered FUTEX_WAIT between our store and wake; keep waking.
    SysFutex(d->addr, FUTEX_WAKE, INT_MAX, nullptr);
    d->thread.join();
  }
  d->callback.Reset();
  d->context.Reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&d->async),
           [](uv_handle_t* h) { delete static_cast<Doorbell*>(h->data); });
}

void DoorbellClose(const FunctionCallbackInfo<Value>& args) {
  int id = args[0]->Int32Value(args.GetIsolate()->GetCurrentContext()).FromMaybe(0);
  Doorbell* d = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_doorbells.find(id);
    if (it == g_doorbells.end()) return;
    d = it->second;
    g_doorbells.erase(it);
  }
  DestroyDoorbell(d);
}

// Per-environment (main thread or worker) state: its doorbells are closed by an async cleanup
// hook, so a worker that is terminated with doorbells open shuts down cleanly instead of
// tripping Node's "uv_loop_close() while having open handles" assertion.
struct EnvCleanup {
  Isolate* iso;
  void (*done)(void*) = nullptr;
  void* done_arg = nullptr;
  int closing = 0;
  node::AsyncCleanupHookHandle handle;
};

void AsyncCleanup(void* arg, void (*done)(void*), void* done_arg) {
  EnvCleanup* env = static_cast<EnvCleanup*>(arg);
  env->done = done;
  env->done_arg = done_arg;
  std::vector<Doorbell*> mine;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    for (auto it = g_doorbells.begin(); it != g_doorbells.end();) {
      if (it->second->isolate == env->iso) { mine.push_back(it->second); it = g_doorbells.erase(it); } else ++it;
    }
  }
  if (mine.empty()) { done(done_arg); return; }
  env->closing = static_cast<int>(mine.size());
  for (Doorbell* d : mine) {
    d->stop.store(true, std::memory_order_release);
    while (d->thread.joinable()) {
      SysFutex(d->addr, FUTEX_WAKE, INT_MAX, nullptr);
      d->thread.join();
    }
    d->callback.Reset();
    d->context.Reset();
    d->cleanup = env;
    uv_close(reinterpret_cast<uv_handle_t*>(&d->async), [](uv_handle_t* h) {
      Doorbell* db = static_cast<Doorbell*>(h->data);
      EnvCleanup* e = db->cleanup;
      delete db;
      if (--e->closing == 0) e->done(e->done_arg);
    });
  }
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  Isolate* iso = context->GetIsolate();
  NODE_SET_METHOD(exports, "memfdCreate", MemfdCreate);
  NODE_SET_METHOD(exports, "mapFd", MapFd);
  NODE_SET_METHOD(exports, "allocAligned", AllocAligned);
  NODE_SET_METHOD(exports, "futexWait", FutexWait);
  NODE_SET_METHOD(exports, "futexWake", FutexWake);
  NODE_SET_METHOD(exports, "doorbellOpen", DoorbellOpen);
  NODE_SET_METHOD(exports, "doorbellClose", DoorbellClose);
  EnvCleanup* env = new EnvCleanup();
  env->iso = iso;
  env->handle = node::AddEnvironmentCleanupHook(iso, AsyncCleanup, env);
}
