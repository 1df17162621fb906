;; Legacy `delegate`: to the enclosing try, past a try to an outer one, to a block (whose
;; enclosing handlers then apply), and to the caller.
(module
  (tag $e0)
  (tag $e1 (param i32))
  (func $throw0 (throw $e0))
  (func $throw1 (param i32) (throw $e1 (local.get 0)))

  (func (export "delegate-0") (result i32)
    try (result i32)
      try
        call $throw0
      delegate 0
      i32.const 0
    catch $e0
      i32.const 1
    end)

  (func (export "delegate-skips-a-try") (result i32)
    try (result i32)
      try (result i32)
        try
          call $throw0
        delegate 1
        i32.const 0
      catch $e0
        ;; Skipped: the delegate names the outer try.
        i32.const 2
      end
    catch $e0
      i32.const 3
    end)

  (func (export "delegate-to-block") (result i32)
    try (result i32)
      block
        try
          try
            call $throw0
          delegate 1
        catch $e0
          ;; Skipped: label 1 is the block, outside this try.
          i32.const 100
          return
        end
      end
      i32.const 0
    catch $e0
      i32.const 4
    end)

  (func $delegates-to-caller
    try
      i32.const 9
      call $throw1
    delegate 0)
  (func (export "delegate-to-caller") (result i32)
    try (result i32)
      call $delegates-to-caller
      i32.const 0
    catch $e1
    end)

  (func (export "delegate-in-catch") (result i32)
    try (result i32)
      try
        call $throw0
      catch $e0
        try
          i32.const 5
          call $throw1
        delegate 1
      end
      i32.const 0
    catch $e1
    end)

  (func (export "delegate-no-throw") (result i32)
    try (result i32)
      i32.const 11
    delegate 0)

  (func (export "delegate-uncaught")
    try
      call $throw0
    delegate 0)
)

(assert_return (invoke "delegate-0") (i32.const 1))
(assert_return (invoke "delegate-skips-a-try") (i32.const 3))
(assert_return (invoke "delegate-to-block") (i32.const 4))
(assert_return (invoke "delegate-to-caller") (i32.const 9))
(assert_return (invoke "delegate-in-catch") (i32.const 5))
(assert_return (invoke "delegate-no-throw") (i32.const 11))
(assert_exception (invoke "delegate-uncaught"))
