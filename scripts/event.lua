-- wrk script: posts one pageview per request, as the tracking script's sendBeacon does.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
wrk.body = '{"domain":"bench.example.com","url":"https://bench.example.com/pricing","referrer":"https://news.test/"}'
