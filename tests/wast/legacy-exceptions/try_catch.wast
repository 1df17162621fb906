;; Legacy exception handling: try, catch, catch_all, their order, nesting, and throws
;; from catch bodies (flat syntax: the wast crate does not parse the folded `(try (do))`).
(module
  (tag $e0)
  (tag $e1 (param i32))
  (tag $e2 (param i32 i64))
  (func $throw0 (throw $e0))
  (func $throw1 (param i32) (throw $e1 (local.get 0)))

  (func (export "no-throw") (result i32)
    try (result i32)
      i32.const 1
    catch_all
      i32.const 2
    end)

  (func (export "catch-payload") (param i32) (result i32)
    try (result i32)
      local.get 0
      call $throw1
      i32.const 0
    catch $e1
      i32.const 100
      i32.add
    end)

  (func (export "catch-two-values") (result i64) (local i64)
    try (result i64)
      i32.const 3
      i64.const 4
      throw $e2
    catch $e2
      i64.const 10
      i64.mul
      local.set 0
      i64.extend_i32_u
      local.get 0
      i64.add
    end)

  (func (export "first-matching-clause") (param i32) (result i32)
    try (result i32)
      local.get 0
      i32.eqz
      if
        call $throw0
      else
        local.get 0
        call $throw1
      end
      i32.const 0
    catch $e0
      i32.const 10
    catch $e1
      drop
      i32.const 11
    catch_all
      i32.const 12
    end)

  (func (export "catch-all-other") (result i32)
    try (result i32)
      i32.const 3
      i64.const 4
      throw $e2
    catch $e0
      i32.const 1
    catch_all
      i32.const 2
    end)

  (func (export "nested") (result i32)
    try (result i32)
      try (result i32)
        call $throw0
        i32.const 0
      catch $e1
        drop
        i32.const 1
      end
    catch $e0
      i32.const 2
    end)

  (func (export "throw-in-catch-goes-out") (result i32)
    try (result i32)
      try (result i32)
        call $throw0
        i32.const 0
      catch $e0
        i32.const 7
        call $throw1
        i32.const 1
      catch $e1
        ;; Not reached: a clause does not catch what its sibling throws.
        drop
        i32.const 2
      end
    catch $e1
    end)

  (func (export "branch-out-of-catch") (result i32)
    block $out (result i32)
      try
        call $throw0
      catch $e0
        i32.const 5
        br $out
      end
      i32.const 6
    end)

  (func (export "try-params") (result i32)
    i32.const 40
    try (param i32) (result i32)
      i32.const 2
      i32.add
    catch_all
      i32.const -1
    end)

  (func (export "uncaught") (throw $e1 (i32.const 1)))
  (func (export "uncaught-after-catch") (result i32)
    try (result i32)
      call $throw0
      i32.const 0
    catch $e1
    end)
)

(assert_return (invoke "no-throw") (i32.const 1))
(assert_return (invoke "catch-payload" (i32.const 5)) (i32.const 105))
(assert_return (invoke "catch-two-values") (i64.const 43))
(assert_return (invoke "first-matching-clause" (i32.const 0)) (i32.const 10))
(assert_return (invoke "first-matching-clause" (i32.const 9)) (i32.const 11))
(assert_return (invoke "catch-all-other") (i32.const 2))
(assert_return (invoke "nested") (i32.const 2))
(assert_return (invoke "throw-in-catch-goes-out") (i32.const 7))
(assert_return (invoke "branch-out-of-catch") (i32.const 5))
(assert_return (invoke "try-params") (i32.const 42))
(assert_exception (invoke "uncaught"))
(assert_exception (invoke "uncaught-after-catch"))
