//! Compiles the setjmp/longjmp shim used to return from traps in compiled Wasm.

fn main() {
    println!("cargo:rerun-if-changed=src/traphandlers/setjmp.c");
    cc::Build::new()
        .file("src/traphandlers/setjmp.c")
        .compile("engine_setjmp");
}
