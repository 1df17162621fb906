;; Legacy handlers beside the final proposal's: try_table inside a catch body, try inside
;; a try_table, exnref from a legacy-caught exception rethrown with throw_ref, and a trap
;; inside a try that no clause catches.
(module
  (tag $e (param i32))
  (func $throw (param i32) (throw $e (local.get 0)))

  (func (export "try-table-in-catch") (result i32)
    try (result i32)
      i32.const 1
        call $throw
      i32.const 0
    catch $e
      block $h (result i32)
        try_table (catch $e $h)
          i32.const 2
        call $throw
        end
        i32.const -1
      end
      i32.add
    end)

  (func (export "try-in-try-table") (result i32)
    block $h (result i32)
      try_table (result i32) (catch $e $h)
        try (result i32)
          i32.const 3
        call $throw
          i32.const 0
        catch_all
          i32.const 30
        call $throw
          i32.const 0
        end
      end
    end)

  (func (export "caught-by-try-table-rethrown-to-try") (result i32)
    try (result i32)
      block $h (result i32 exnref)
        try_table (catch_ref $e $h)
          i32.const 4
        call $throw
        end
        unreachable
      end
      throw_ref
    catch $e
      i32.const 40
      i32.add
    end)

  (func (export "trap-is-not-caught") (result i32)
    try (result i32)
      unreachable
    catch_all
      i32.const 1
    end)
)

(assert_return (invoke "try-table-in-catch") (i32.const 3))
(assert_return (invoke "try-in-try-table") (i32.const 30))
(assert_return (invoke "caught-by-try-table-rethrown-to-try") (i32.const 44))
(assert_trap (invoke "trap-is-not-caught") "unreachable")
