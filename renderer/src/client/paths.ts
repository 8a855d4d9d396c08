// The HTTP routes of the contract (src/api/common/contract.ts `HTTP`), repeated here because the
// renderer imports nothing from src/ at run time; test/app-contract.test.ts checks they agree.
export const HTTP_PATHS = {
  call: '/api/call/',
  events: '/api/events',
  uploads: '/api/uploads',
  files: '/api/files/',
} as const;
