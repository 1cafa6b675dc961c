/* The field officer's service worker (docs/design.md "Offline field work"), served at
 * /sw.js by field.views.service_worker, which puts CACHE, ASSETS, PAGES and
 * STATIC_PREFIX above this line.
 *
 * - Static files (CSS, scripts, icons): kept when the worker installs, answered from
 *   the cache first.
 * - The field pages (/field/...): asked from the network first, the cached copy when
 *   there is no network. The page keeps them in the "field-pages" cache when the officer
 *   refreshes the field pack (static/js/field.js), signed in.
 * - Everything else (other pages, the API) goes to the network untouched: nothing
 *   about a person is cached by this worker.
 */
"use strict";

const PAGE_CACHE = "field-pages";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name !== CACHE && name !== PAGE_CACHE && name.indexOf("field-") === 0;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function isPage(url) {
  return url.origin === self.location.origin && PAGES.indexOf(url.pathname) !== -1;
}

function fromNetworkThenCache(request, url) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      const copy = response.clone();
      caches.open(PAGE_CACHE).then(function (cache) { cache.put(url.pathname, copy); });
    }
    return response;
  }).catch(function () {
    return caches.open(PAGE_CACHE).then(function (cache) {
      return cache.match(url.pathname).then(function (kept) {
        return kept || Response.error();
      });
    });
  });
}

function fromCacheThenNetwork(request) {
  return caches.match(request).then(function (kept) { return kept || fetch(request); });
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && isPage(url)) {
    event.respondWith(fromNetworkThenCache(request, url));
  } else if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(fromCacheThenNetwork(request));
  }
});
