-- wrk script for bench/soak.sh: a fixed mix of routes and clients, one
-- request in CHURN asking "Connection: close" (so wrk reconnects: new
-- connections keep going through XDP's tag map). Every answer is checked:
-- its status and Location must be the one archeio gives for that route
-- (ALLOWED below is filled in by soak.sh from one curl per route). done()
-- prints the totals and each distinct unexpected answer (a few).
local churn = tonumber(os.getenv("SOAK_CHURN") or "10")
local P = os.getenv("SOAK_PRESENT")   -- on the mirror, asked for by an aws client
local Q = os.getenv("SOAK_ABSENT")    -- not on the mirror, aws client
local R = os.getenv("SOAK_GCP")       -- on the mirror, gcp client (upstream anyway)
local mix = {
	{"/v2/pause/manifests/3.9", "10.1.0.1"},
	{"/v2/pause/blobs/" .. P, "10.1.0.2"},
	{"/v2/pause/blobs/" .. Q, "10.2.0.3"},
	{"/v2/pause/blobs/" .. R, "172.16.0.4"},
	{"/v2/pause/tags/list", "172.16.0.5"},
	{"/nope", "10.1.0.6"},
	{"/v2/pause/blobs/" .. P, "10.3.0.7"},
	{"/v2/pause/manifests/sha256:" .. string.rep("b", 64), "172.16.0.8"},
}
-- "status location" strings archeio may answer with; "404 " for the 404s.
allowed = {}
for entry in string.gmatch(os.getenv("SOAK_ALLOWED") or "", "[^|]+") do
	allowed[entry] = true
end

local threads = {}
function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	counter = 0
	ok = 0
	bad = 0
	samples = ""
	seen = {}
end

function request()
	counter = counter + 1
	local m = mix[counter % #mix + 1]
	local headers = {["X-Forwarded-For"] = m[2]}
	if counter % churn == 0 then
		headers["Connection"] = "close"
	end
	return wrk.format("GET", m[1], headers)
end

function response(status, headers, body)
	local key = tostring(status) .. " " .. (headers["Location"] or "")
	if allowed[key] then
		ok = ok + 1
	else
		bad = bad + 1
		if not seen[key] and #samples < 4000 then
			seen[key] = true
			samples = samples .. key .. "\n"
		end
	end
end

function done(summary, latency, requests)
	local total_ok, total_bad, all = 0, 0, ""
	for _, t in ipairs(threads) do
		total_ok = total_ok + t:get("ok")
		total_bad = total_bad + t:get("bad")
		all = all .. t:get("samples")
	end
	io.write(string.format("SOAK requests=%d ok=%d unexpected=%d errors_connect=%d "
		.. "errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d p50_us=%d p99_us=%d\n",
		summary.requests, total_ok, total_bad, summary.errors.connect, summary.errors.read,
		summary.errors.write, summary.errors.status, summary.errors.timeout,
		latency:percentile(50), latency:percentile(99)))
	if all ~= "" then
		io.write("SOAK unexpected samples:\n" .. all)
	end
end
