-- A real editor driving `clause lsp`: Neovim (0.7 or later), headless, on a copy of a
-- policy and its test file in a temporary folder. Asks for the outline, applies a
-- did-you-mean fix, finds references, renames across both files, and waits for a test
-- file's diagnostic. Exits non-zero on the first failure.
--
-- usage: CLAUSE=build/bin/clause nvim --headless -u NONE -c "luafile tests/lsp/nvim_session.lua"

local TIMEOUT = 10000

local function fail(message)
  io.stderr:write("nvim lsp session: FAILED: " .. message .. "\n")
  vim.cmd("cquit 1")
end

local function check(condition, message)
  if not condition then error(message, 0) end
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local POLICY = table.concat({
  'policy "Clinic" version "1"',
  'clause "1" "Records are kept."',
  'clause "2" "Staff may read them."',
  "data personal_info",
  'data record under personal_info cites "1"',
  "requester staff",
  "action read",
  'allow reed of record by staff cites "2"',
  "",
}, "\n")

local TESTS = table.concat({
  'tests for "clinic.policy"',
  "",
  'case "staff read"',
  "  data record",
  "  requester staff",
  "  action read",
  '  expect allow cites "2"',
  "",
}, "\n")

local BAD_TESTS = 'tests for "clinic.policy"\n\ncase "typo"\n  data recrd\n  requester staff\n'
  .. '  action read\n  expect allow cites "2"\n'

local function text_of(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
end

-- The LSP position of `needle` in the buffer (ASCII text: bytes are UTF-16 units).
local function position(buf, needle, skip)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local at = line:find(needle, 1, true)
    if at then return { line = i - 1, character = at - 1 + (skip or 0) } end
  end
  error("`" .. needle .. "` is not in the buffer", 0)
end

local function request(buf, method, params)
  local answers, err = vim.lsp.buf_request_sync(buf, method, params, TIMEOUT)
  check(answers ~= nil, method .. ": no answer: " .. tostring(err))
  for _, answer in pairs(answers) do
    check(answer.error == nil, method .. ": " .. vim.inspect(answer.error))
    return answer.result
  end
  error(method .. ": no client answered", 0)
end

local function run()
  local clause = vim.env.CLAUSE
  check(clause and clause ~= "", "set CLAUSE to the clause binary")
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, "p")
  write(dir .. "/clinic.policy", POLICY)
  write(dir .. "/clinic.test", TESTS)
  write(dir .. "/bad.test", BAD_TESTS)

  vim.cmd("edit " .. vim.fn.fnameescape(dir .. "/clinic.policy"))
  local buf = vim.api.nvim_get_current_buf()
  local uri = vim.uri_from_bufnr(buf)
  local client = vim.lsp.start_client({ name = "clause", cmd = { clause, "lsp" }, root_dir = dir })
  check(client ~= nil, "the client did not start")
  check(vim.lsp.buf_attach_client(buf, client), "the client did not attach")
  -- The typo `reed` is reported once the server has the text.
  check(vim.wait(TIMEOUT, function() return #vim.diagnostic.get(buf) > 0 end, 50),
    "no diagnostics for the policy")
  local found = vim.diagnostic.get(buf)[1]
  check(found.code == "E211", "the first diagnostic is " .. vim.inspect(found))

  -- The outline.
  local symbols = request(buf, "textDocument/documentSymbol", { textDocument = { uri = uri } })
  local names = {}
  for _, s in ipairs(symbols) do names[#names + 1] = s.name end
  check(table.concat(names, ",") == "Clinic,1,2,personal_info,record,staff,read,2/1",
    "outline: " .. table.concat(names, ","))

  -- The did-you-mean fix, applied.
  local typo = position(buf, "reed")
  local actions = request(buf, "textDocument/codeAction", {
    textDocument = { uri = uri },
    range = { start = typo, ["end"] = typo },
    context = { diagnostics = {} },
  })
  local fix
  for _, a in ipairs(actions) do
    if a.title == "Change to `read`" then fix = a end
  end
  check(fix ~= nil, "no did-you-mean fix among " .. vim.inspect(actions))
  vim.lsp.util.apply_workspace_edit(fix.edit, "utf-16")
  check(text_of(buf):find("allow read of record", 1, true), "the fix was not applied")
  check(vim.wait(TIMEOUT, function() return #vim.diagnostic.get(buf) == 0 end, 50),
    "the fixed policy still has diagnostics")

  -- References of `record`: two in the policy, one in the test file beside it.
  local at_record = { textDocument = { uri = uri }, position = position(buf, "record under", 1) }
  local refs = request(buf, "textDocument/references",
    vim.tbl_extend("force", at_record, { context = { includeDeclaration = true } }))
  local in_tests = 0
  for _, r in ipairs(refs) do
    if r.uri:match("clinic%.test$") then in_tests = in_tests + 1 end
  end
  check(#refs == 3 and in_tests == 1, "references: " .. vim.inspect(refs))

  -- Rename, applied to both files; a taken name is refused.
  local taken = vim.lsp.buf_request_sync(buf, "textDocument/rename",
    vim.tbl_extend("force", at_record, { newName = "personal_info" }), TIMEOUT)
  local refused = false
  for _, answer in pairs(taken or {}) do refused = answer.error ~= nil end
  check(refused, "a rename to a declared name was not refused")
  local edit = request(buf, "textDocument/rename",
    vim.tbl_extend("force", at_record, { newName = "chart" }))
  vim.lsp.util.apply_workspace_edit(edit, "utf-16")
  check(text_of(buf):find("data chart under personal_info", 1, true), "rename in the policy")
  check(text_of(buf):find("allow read of chart by staff", 1, true), "rename in the rule")
  local test_buf = vim.fn.bufnr(dir .. "/clinic.test")
  check(test_buf > 0 and text_of(test_buf):find("data chart", 1, true), "rename in the test file")

  -- A test file with a name its policy does not declare: E211 on open.
  vim.cmd("silent write")
  vim.cmd("edit " .. vim.fn.fnameescape(dir .. "/bad.test"))
  local bad = vim.api.nvim_get_current_buf()
  check(vim.lsp.buf_attach_client(bad, client), "the client did not attach to the test file")
  check(vim.wait(TIMEOUT, function() return #vim.diagnostic.get(bad) > 0 end, 50),
    "no diagnostics for the test file")
  local d = vim.diagnostic.get(bad)[1]
  check(d.code == "E211" and d.message:find("recrd", 1, true), "test diagnostic: " .. vim.inspect(d))

  vim.lsp.stop_client(client)
  vim.fn.delete(dir, "rf")
end

local ok, err = pcall(run)
if not ok then
  fail(tostring(err))
else
  io.stdout:write("nvim lsp session: every step answered as expected\n")
  vim.cmd("qall!")
end
