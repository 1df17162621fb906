;; Legacy `rethrow`: of the innermost clause, of an outer clause, and from catch_all.
(module
  (tag $e0)
  (tag $e1 (param i32))
  (func $throw1 (param i32) (throw $e1 (local.get 0)))

  (func (export "rethrow-0") (result i32)
    try (result i32)
      try
        i32.const 3
        call $throw1
      catch $e1
        drop
        rethrow 0
      end
      i32.const 0
    catch $e1
      i32.const 10
      i32.add
    end)

  (func (export "rethrow-catch-all") (result i32)
    try (result i32)
      try
        i32.const 4
        call $throw1
      catch_all
        rethrow 0
      end
      i32.const 0
    catch $e1
    end)

  (func (export "rethrow-outer") (result i32)
    try (result i32)
      try
        throw $e0
      catch $e0
        try
          i32.const 8
          call $throw1
        catch $e1
          drop
          ;; The outer clause's exception ($e0), not the inner one.
          rethrow 1
        end
      end
      i32.const 0
    catch $e0
      i32.const 20
    catch $e1
      drop
      i32.const 21
    end)

  (func (export "rethrow-from-nested-block") (result i32)
    try (result i32)
      try
        i32.const 6
        call $throw1
      catch $e1
        drop
        block
          rethrow 1
        end
      end
      i32.const 0
    catch $e1
    end)

  (func (export "rethrow-uncaught")
    try
      throw $e0
    catch $e0
      rethrow 0
    end)
)

(assert_return (invoke "rethrow-0") (i32.const 13))
(assert_return (invoke "rethrow-catch-all") (i32.const 4))
(assert_return (invoke "rethrow-outer") (i32.const 20))
(assert_return (invoke "rethrow-from-nested-block") (i32.const 6))
(assert_exception (invoke "rethrow-uncaught"))
