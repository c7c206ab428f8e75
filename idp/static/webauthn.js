/* Gatehouse passkeys: the browser's half of WebAuthn. No inline script (the CSP forbids it):
   a page marks an element with data-webauthn="create" or "get" and puts the server's options
   (py_webauthn's JSON) in data-webauthn-options. Such an element is hidden until this script
   shows it; the [data-webauthn-fallback] text that says passkeys need JavaScript is hidden
   by it, so without JavaScript only that text is seen.

   The enclosing form's submit starts the ceremony; the answer goes, as JSON, into the
   form's [data-webauthn-response] field, and the form is sent again (htmx takes it from
   there, or the browser posts it). The server checks everything; this file only converts. */
(function () {
  "use strict";
  if (window.gatehouseWebAuthn) return;

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(options) {
    return Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      user: Object.assign({}, options.user, { id: toBytes(options.user.id) }),
      excludeCredentials: descriptors(options.excludeCredentials),
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    });
  }

  function answerJSON(credential) {
    var response = credential.response;
    var answer = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      answer.response.attestationObject = toText(response.attestationObject);
      answer.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      answer.response.authenticatorData = toText(response.authenticatorData);
      answer.response.signature = toText(response.signature);
      answer.response.userHandle = toText(response.userHandle);
    }
    return JSON.stringify(answer);
  }

  var MESSAGES = {
    NotAllowedError: "The passkey request was cancelled or timed out. You can try again.",
    InvalidStateError: "This passkey is already registered for your account.",
    SecurityError: "This address cannot use passkeys. Ask your administrator to check IDP_BASE_URL.",
    AbortError: "The passkey request was cancelled.",
  };

  function showError(box, error) {
    var text = MESSAGES[error && error.name] || "Your browser could not use a passkey here.";
    var place = box.querySelector("[data-webauthn-error]");
    if (place) {
      place.textContent = text;
      place.hidden = false;
    }
  }

  // One conditional (autofill) request may be waiting per page; a click cancels it first.
  var waiting = null;

  function cancelWaiting() {
    if (!waiting) return Promise.resolve();
    var current = waiting;
    waiting = null;
    current.controller.abort();
    return current.promise.catch(function () {});
  }

  function send(form, credential) {
    var field = form.querySelector("[data-webauthn-response]");
    field.value = answerJSON(credential);
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  function ceremony(box) {
    var options = JSON.parse(box.getAttribute("data-webauthn-options"));
    if (box.getAttribute("data-webauthn") === "create") {
      return navigator.credentials.create({ publicKey: creationOptions(options) });
    }
    return navigator.credentials.get({ publicKey: requestOptions(options) });
  }

  function start(box, form) {
    var place = box.querySelector("[data-webauthn-error]");
    if (place) place.hidden = true;
    cancelWaiting()
      .then(function () {
        return ceremony(box);
      })
      .then(function (credential) {
        if (credential) send(form, credential);
      })
      .catch(function (error) {
        showError(box, error);
      });
  }

  function autofill(box, form) {
    var check = window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable;
    if (!check) return;
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available || !document.body.contains(box)) return;
      var options = JSON.parse(box.getAttribute("data-webauthn-options"));
      var controller = new AbortController();
      var promise = navigator.credentials.get({
        publicKey: requestOptions(options),
        mediation: "conditional",
        signal: controller.signal,
      });
      waiting = { controller: controller, promise: promise };
      promise
        .then(function (credential) {
          waiting = null;
          if (credential) send(form, credential);
        })
        .catch(function () {});
    });
  }

  function setUp(box) {
    if (box.hasAttribute("data-webauthn-ready")) return;
    box.setAttribute("data-webauthn-ready", "");
    var form = box.tagName === "FORM" ? box : box.querySelector("form");
    if (!form || !window.PublicKeyCredential || !navigator.credentials) {
      box.hidden = false;
      showError(box, null);
      return;
    }
    box.hidden = false;
    form.addEventListener(
      "submit",
      function (event) {
        var field = form.querySelector("[data-webauthn-response]");
        if (field && field.value) return; // the answer is in: let the form go
        event.preventDefault();
        event.stopImmediatePropagation();
        start(box, form);
      },
      true
    );
    if (box.hasAttribute("data-webauthn-autofill")) autofill(box, form);
  }

  function setUpWithin(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (window.PublicKeyCredential && navigator.credentials) {
      scope.querySelectorAll("[data-webauthn-fallback]").forEach(function (element) {
        element.hidden = true;
      });
    }
    if (scope.matches && scope.matches("[data-webauthn]")) setUp(scope);
    scope.querySelectorAll("[data-webauthn]").forEach(setUp);
  }

  window.gatehouseWebAuthn = { setUpWithin: setUpWithin };
  document.addEventListener("htmx:load", function (event) {
    setUpWithin(event.detail.elt);
  });
  document.addEventListener("htmx:beforeSwap", function () {
    cancelWaiting();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      setUpWithin(document);
    });
  } else {
    setUpWithin(document);
  }
})();
