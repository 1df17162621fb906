// The one piece of the trap path that must be C: `sigsetjmp` returns twice, which Rust
// cannot express. `engine_catch_traps` calls `body(payload)`; a trap handler that finds a
// trap in compiled Wasm code calls `engine_unwind` with the buffer published through
// `jmp_buf_out`, and `engine_catch_traps` returns 0. Only compiled Wasm frames and the
// resource-free Rust `body` frame lie between the two, so no destructor is skipped.
#include <setjmp.h>

typedef void (*engine_body)(void *);

int engine_catch_traps(void **jmp_buf_out, engine_body body, void *payload) {
  sigjmp_buf buf;
  // Do not save the signal mask: handlers are installed with SA_NODEFER, so the mask is
  // unchanged when a handler unwinds, and saving it would cost a system call per entry.
  if (sigsetjmp(buf, 0) != 0) {
    return 0;
  }
  *jmp_buf_out = &buf;
  body(payload);
  return 1;
}

void engine_unwind(void *jmp_buf) {
  siglongjmp(*(sigjmp_buf *)jmp_buf, 1);
}
