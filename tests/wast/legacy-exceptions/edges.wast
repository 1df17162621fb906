;; Legacy exception handling at its edges: delegating from inside a catch clause, tail
;; calls leaving a try, tags shared between modules, and what validation rejects.
(module
  (tag $shared (export "shared") (param i32))
  (func (export "throw-shared") (param i32) (throw $shared (local.get 0)))
)
(register "legacy")

(module
  (tag $shared (import "legacy" "shared") (param i32))
  (tag $local (param i32))
  (func $throw-shared (import "legacy" "throw-shared") (param i32))
  (func $throw-local (param i32) (throw $local (local.get 0)))
  (func $throw-local-i32 (param i32) (result i32) (throw $local (local.get 0)))
  (table funcref (elem $throw-local-i32))

  ;; A delegate naming the try whose catch clause it sits in hands the exception to the
  ;; handlers around that try: the clause's own try no longer catches.
  (func (export "delegate-from-catch-clause") (result i32)
    try (result i32)
      try
        i32.const 1
        call $throw-local
      catch $local
        drop
        try
          i32.const 2
          call $throw-local
        delegate 0
      end
      i32.const 0
    catch $local
      i32.const 10
      i32.add
    end)

  ;; A tail call replaces the frame, and with it the try around the call.
  (func (export "return-call-leaves-try") (result i32)
    try (result i32)
      i32.const 3
      return_call $throw-local-i32
    catch $local
      i32.const 100
      i32.add
    end)
  (func (export "return-call-indirect-leaves-try") (result i32)
    try (result i32)
      i32.const 4
      i32.const 0
      return_call_indirect (param i32) (result i32)
    catch $local
      i32.const 100
      i32.add
    end)

  ;; The imported tag is the exporter's: it matches, and a same-typed local tag does not.
  (func (export "imported-tag") (param i32) (result i32)
    try (result i32)
      try (result i32)
        local.get 0
        call $throw-shared
        i32.const 0
      catch $local
        i32.const 1000
        i32.add
      end
    catch $shared
      i32.const 1
      i32.add
    end)

  ;; A catch clause whose try never throws, with values flowing through the try.
  (func (export "try-passes-values") (param i32) (result i32 i32)
    local.get 0
    try (param i32) (result i32 i32)
      i32.const 7
    catch_all
      i32.const -1
      i32.const -1
    end)

  ;; A loop around a try: each iteration throws and catches, the count carries over.
  (func (export "catch-in-loop") (param i32) (result i32) (local i32)
    loop $again
      try
        local.get 1
        call $throw-local
      catch $local
        i32.const 1
        i32.add
        local.set 1
      end
      local.get 1
      local.get 0
      i32.lt_u
      br_if $again
    end
    local.get 1)
)

(assert_return (invoke "delegate-from-catch-clause") (i32.const 12))
(assert_exception (invoke "return-call-leaves-try"))
(assert_exception (invoke "return-call-indirect-leaves-try"))
(assert_return (invoke "imported-tag" (i32.const 5)) (i32.const 6))
(assert_return (invoke "try-passes-values" (i32.const 3)) (i32.const 3) (i32.const 7))
(assert_return (invoke "catch-in-loop" (i32.const 1000)) (i32.const 1000))

(assert_invalid
  (module (func block rethrow 0 end))
  "invalid rethrow label")
(assert_invalid
  (module (tag $e) (func try rethrow 0 catch $e end))
  "invalid rethrow label")
(assert_invalid
  (module (func try delegate 1))
  "unknown label")
(assert_invalid
  (module (tag $e (param i64)) (func (result i32) try (result i32) i32.const 0 catch $e end))
  "type mismatch")
