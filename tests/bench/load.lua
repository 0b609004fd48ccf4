-- A mixed read/write load on `ingestcheck serve` for wrk (tests/bench/load).
--
-- Every request carries valid credentials (IC_APP, IC_KEY from the
-- environment). Per thread, ten requests in turn:
--   GET a preloaded task x3, list tasks, list tasks filtered and sorted,
--   POST an authentication, PATCH one created earlier, DELETE one patched
--   earlier, GET the authentication list, and GET /1/tasks?itemsPerPage=0,
--   which must be refused with 400 (the expected 4xx).
-- An ID moves POST -> PATCH -> DELETE only once the previous response has
-- come back (the response body says which it was), so no two requests race
-- on one ID and the store does not grow. Every other status is an error.

local app = os.getenv("IC_APP")
local key = os.getenv("IC_KEY")
local task = os.getenv("IC_TASK")
local threads = {}

function setup(thread)
    thread:set("id", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    wrk.headers["x-algolia-application-id"] = app
    wrk.headers["x-algolia-api-key"] = key
    wrk.headers["content-type"] = "application/json"
    n = 0
    created, patched = {}, {}
    ok, expected4xx, unexpected, posts, patches, deletes = 0, 0, 0, 0, 0, 0
end

local function pop(list)
    return table.remove(list, 1)
end

function request()
    n = n + 1
    local step = n % 10
    if step == 5 then
        posts = posts + 1
        local body = string.format(
            '{"type":"basic","name":"load-%d-%d","input":{"username":"u","password":"p%d"}}',
            id, n, n)
        return wrk.format("POST", "/1/authentications", nil, body)
    elseif step == 6 and #created > 0 then
        patches = patches + 1
        return wrk.format("PATCH", "/1/authentications/" .. pop(created), nil,
            string.format('{"name":"load-%d-%d-renamed"}', id, n))
    elseif step == 7 and #patched > 0 then
        deletes = deletes + 1
        return wrk.format("DELETE", "/1/authentications/" .. pop(patched))
    elseif step == 3 then
        return wrk.format("GET", "/1/tasks?itemsPerPage=20&page=2")
    elseif step == 4 then
        return wrk.format("GET", "/1/tasks?sort=createdAt&order=desc&action=replace&itemsPerPage=10")
    elseif step == 8 then
        return wrk.format("GET", "/1/authentications?itemsPerPage=10")
    elseif step == 9 then
        return wrk.format("GET", "/1/tasks?itemsPerPage=0")
    end
    return wrk.format("GET", "/1/tasks/" .. task)
end

function response(status, headers, body)
    if status == 200 then
        ok = ok + 1
        -- Only the answers of POST and PATCH (a listing names other IDs).
        local auth, what = string.match(body,
            '^{"authenticationID":"([^"]+)","name":"[^"]*","(%a+)At"')
        if what == "created" then
            table.insert(created, auth)
        elseif what == "updated" then
            table.insert(patched, auth)
        end
    elseif status == 400 and string.find(body, "itemsPerPage", 1, true) then
        expected4xx = expected4xx + 1
    else
        unexpected = unexpected + 1
        if unexpected <= 3 then
            io.write(string.format("UNEXPECTED %d %.200s\n", status, body))
        end
    end
end

function done(summary, latency, requests)
    local t = {ok = 0, expected4xx = 0, unexpected = 0, posts = 0, patches = 0, deletes = 0}
    for _, thread in ipairs(threads) do
        for k, _ in pairs(t) do
            t[k] = t[k] + thread:get(k)
        end
    end
    local e = summary.errors
    io.write(string.format(
        "RESULT rps=%.0f requests=%d ok=%d expected4xx=%d unexpected=%d " ..
        "connect=%d read=%d write=%d timeout=%d p50=%.2f p99=%.2f posts=%d patches=%d deletes=%d\n",
        summary.requests / (summary.duration / 1e6), summary.requests, t.ok, t.expected4xx,
        t.unexpected, e.connect, e.read, e.write, e.timeout, latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, t.posts, t.patches, t.deletes))
end
