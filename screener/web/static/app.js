// Progress polling of analysis jobs: elements with data-status-url are refreshed every
// two seconds; when a job ends, the page reloads to show the report or the error.
"use strict";
(function () {
  const POLL_MS = 2000;

  function poll(el) {
    const url = el.getAttribute("data-status-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.json();
      })
      .then(function (job) {
        const stage = el.querySelector(".js-stage");
        const bar = el.querySelector("progress");
        if (bar && typeof job.progress === "number") { bar.value = job.progress; }
        if (stage) {
          let text = job.status;
          if (job.status === "running") { text += " — " + job.stage + " " + Math.round(job.progress * 100) + "%"; }
          else if (job.status === "queued") { text += " — " + job.stage; }
          stage.textContent = text;
        }
        const noWorker = el.querySelector(".js-no-worker");
        if (noWorker && typeof job.worker_running === "boolean") { noWorker.hidden = job.worker_running; }
        if (job.status === "done" || job.status === "failed") {
          window.location.reload();
          return;
        }
        window.setTimeout(function () { poll(el); }, POLL_MS);
      })
      .catch(function () {
        // Signed out or server restarting: try again later (reload shows the sign-in page).
        window.setTimeout(function () { window.location.reload(); }, POLL_MS * 3);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-status-url]").forEach(function (el) {
      window.setTimeout(function () { poll(el); }, POLL_MS);
    });
    const form = document.getElementById("upload-form");
    if (form) {
      form.addEventListener("submit", function () {
        const button = form.querySelector("button[type=submit]");
        if (button) { button.disabled = true; button.textContent = "Uploading…"; }
      });
    }
  });
})();
