// Visit form that survives a weak connection: the half-filled form is kept in localStorage, sent
// when the browser is online, and carries one idempotency key per draft so a resend never makes a
// second visit on the server. Photos cannot be kept in localStorage; they go only with an online send.
// A send whose answer is lost (the connection drops after the server saved the visit, or a proxy
// answers 502 while the server restarts) is retried with the same key until the server answers:
// the browser may still count itself online, so no "online" event would ever come.
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  var storeKey = form.dataset.draftKey;
  var status = document.getElementById("draft-status");
  var errorBox = document.getElementById("form-errors");
  var keyInput = form.elements.idempotency_key;
  var SKIP = { csrfmiddlewaretoken: true, photos: true, employer: true };
  var sending = false;
  var RETRY_FIRST_MS = 2000;
  var RETRY_MAX_MS = 60000;
  var retryDelay = RETRY_FIRST_MS;
  var retryTimer = null;

  function show(text, kind) {
    status.textContent = text;
    status.className = "alert py-1 small alert-" + (kind || "info");
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)); } catch (e) { return null; }
  }

  function fields() {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "file") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) {
        values[el.name] = values[el.name] || [];
        return;
      }
      (values[el.name] = values[el.name] || []).push(el.value);
    });
    return values;
  }

  function save(pending) {
    var draft = { values: fields(), pending: !!pending, savedAt: new Date().toISOString() };
    localStorage.setItem(storeKey, JSON.stringify(draft));
    return draft;
  }

  function restore(draft) {
    Array.prototype.forEach.call(form.elements, function (el) {
      var values = draft.values[el.name];
      if (!el.name || SKIP[el.name] || el.type === "file" || values === undefined) return;
      if (el.type === "checkbox" || el.type === "radio") el.checked = values.indexOf(el.value) !== -1;
      else el.value = values[0] || "";
    });
  }

  function newKey() {
    // crypto.randomUUID needs a secure context (HTTPS or localhost); on plain HTTP keep the
    // server-made key, which is just as unique.
    if (window.crypto && typeof window.crypto.randomUUID === "function") keyInput.value = window.crypto.randomUUID();
  }

  function showErrors(list) {
    errorBox.innerHTML = "";
    var box = document.createElement("div");
    box.className = "alert alert-danger py-1";
    list.forEach(function (text) {
      var line = document.createElement("div");
      line.textContent = text;
      box.appendChild(line);
    });
    errorBox.appendChild(box);
  }

  function sendIfPending() {
    var current = load();
    if (current && current.pending) send();
  }

  function retryLater() {
    // Offline, the "online" event sends; online, a timer does, waiting longer after each failure.
    if (retryTimer || !navigator.onLine) return;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      sendIfPending();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }

  function send() {
    if (sending) return;
    sending = true;
    show("正在提交……");
    fetch(window.location.href, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.status >= 502 && response.status <= 504) throw { retry: true };
        if (type.indexOf("application/json") === -1) {
          throw { message: response.status === 403 ? "无权登记该单位。" : "登录已过期，请在新标签页重新登录后再点“保存”。草稿已保留。" };
        }
        return response.json();
      })
      .then(function (data) {
        sending = false;
        retryDelay = RETRY_FIRST_MS;
        if (data.ok) {
          localStorage.removeItem(storeKey);
          show("已保存。", "success");
          window.location.assign(data.url);
        } else {
          save(false);
          showErrors(data.errors);
          show("未保存：请按提示修改后再提交。草稿已保留。", "warning");
        }
      })
      .catch(function (error) {
        sending = false;
        if (error && error.message && !(error instanceof TypeError)) {
          save(false);
          show(error.message, "danger");
        } else {
          show("网络中断：草稿已保存在本机，将自动重新提交（同一份记录不会重复登记）。", "warning");
          retryLater();
        }
      });
  }

  var draft = load();
  if (draft) {
    restore(draft);
    show((draft.pending ? "有一份待提交的草稿，" : "已恢复未完成的草稿，") + "保存于 " + new Date(draft.savedAt).toLocaleString());
  } else {
    newKey();
  }

  form.addEventListener("input", function () { save(load() ? load().pending : false); });
  form.addEventListener("change", function () { save(load() ? load().pending : false); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save(true);
    if (navigator.onLine) send();
    else show("当前离线：草稿已保存在本机，联网后自动提交。", "warning");
  });
  window.addEventListener("online", sendIfPending);
  document.getElementById("draft-discard").addEventListener("click", function () {
    localStorage.removeItem(storeKey);
    window.location.reload();
  });
  if (draft && draft.pending && navigator.onLine) send();
})();
