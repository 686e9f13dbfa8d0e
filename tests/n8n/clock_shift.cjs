// n8n on Revgov's clock when the suite runs "as of" another date (REVGOV_CLOCK_START; tests/clock_support.py).
// Preloaded (`node --require`) into n8n and its Code-node task runner by n8n_harness.py: `Date.now()`,
// `new Date()` and so luxon's `$now` / `DateTime.utc()` read the real time shifted by REVGOV_CLOCK_OFFSET_MS, in
// the process and in every vm context it creates (the task runner runs Code nodes in one), so the flows sign ERP
// requests and judge Revgov's signatures, review days and SLA windows by the same "now" as the API. Time still
// flows: timers and timeouts are untouched. Without the variable (or at 0) nothing is changed.
'use strict';

const OFFSET = Number(process.env.REVGOV_CLOCK_OFFSET_MS || 0);

function shiftDate(offset) {
  const Real = globalThis.Date;
  if (Real.__revgovShifted) return;
  function Shifted(...args) {
    if (!new.target) return new Real(Real.now() + offset).toString(); // Date() called as a function
    return args.length === 0 ? Reflect.construct(Real, [Real.now() + offset], new.target)
      : Reflect.construct(Real, args, new.target);
  }
  Shifted.prototype = Real.prototype;
  Object.setPrototypeOf(Shifted, Real);
  Shifted.now = () => Real.now() + offset;
  Shifted.UTC = Real.UTC;
  Shifted.parse = Real.parse;
  Object.defineProperty(Shifted, '__revgovShifted', { value: true });
  globalThis.Date = Shifted;
}

if (Number.isFinite(OFFSET) && OFFSET !== 0) {
  shiftDate(OFFSET);
  const vm = require('node:vm');
  const create = vm.createContext;
  const source = `(${shiftDate.toString()})(${OFFSET})`;
  vm.createContext = function createShiftedContext(...args) {
    const context = create.apply(this, args);
    try {
      vm.runInContext(source, context);
    } catch {
      // a context without code generation: leave it on its own clock
    }
    return context;
  };
}
