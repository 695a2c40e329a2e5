// Rampart's hosted pages: inline checks while the user types. The pages work without this
// script (the server checks everything again); it only says earlier what is wrong.
// Loaded with the page's CSP nonce; it adds no inline code or handlers to the page.
(function () {
  "use strict";

  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  // The app's password rules, from the data-* attributes of the page's rules list.
  function rulesOf(list) {
    return {
      minLength: parseInt(list.getAttribute("data-min-length"), 10) || 0,
      uppercase: list.getAttribute("data-uppercase") === "true",
      number: list.getAttribute("data-number") === "true",
      symbol: list.getAttribute("data-symbol") === "true"
    };
  }

  function ruleMet(rule, rules, value) {
    switch (rule) {
      case "min-length": return Array.from(value).length >= rules.minLength;
      case "uppercase": return !rules.uppercase || /\p{Lu}/u.test(value);
      case "number": return !rules.number || /[0-9]/.test(value);
      case "symbol": return !rules.symbol || /[^\p{L}\p{N}]/u.test(value);
      default: return true;
    }
  }

  // Marks the rules a new password meets; answers whether it meets them all.
  function markRules(input) {
    var list = document.getElementById(input.getAttribute("data-rules"));
    if (!list) { return true; }
    var rules = rulesOf(list);
    var all = true;
    Array.prototype.forEach.call(list.querySelectorAll("li[data-rule]"), function (item) {
      var met = ruleMet(item.getAttribute("data-rule"), rules, input.value);
      item.classList.toggle("met", met);
      all = all && met;
    });
    return all;
  }

  function problem(form, input) {
    var value = input.value;
    if (input.required && value.trim() === "") { return form.getAttribute("data-msg-required"); }
    if (value === "") { return ""; }
    if (input.type === "email" && !EMAIL.test(value.trim())) { return form.getAttribute("data-msg-email"); }
    if (input.hasAttribute("data-rules") && !markRules(input)) { return form.getAttribute("data-msg-rules"); }
    var other = input.getAttribute("data-match");
    if (other) {
      var target = form.querySelector("[name='" + other + "']");
      if (target && target.value !== value) { return form.getAttribute("data-msg-mismatch"); }
    }
    return "";
  }

  function show(input, message) {
    var slot = document.getElementById(input.id + "-error");
    if (slot) { slot.textContent = message; }
    if (message) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
  }

  function attach(form) {
    var inputs = Array.prototype.filter.call(form.querySelectorAll("input"), function (input) {
      return input.type !== "hidden" && input.type !== "submit";
    });
    if (inputs.length === 0) { return; }
    // The script's messages replace the browser's own (which would speak another language).
    form.noValidate = true;
    inputs.forEach(function (input) {
      var touched = false;
      input.addEventListener("input", function () {
        if (input.hasAttribute("data-rules")) { markRules(input); }
        if (touched) { show(input, problem(form, input)); }
      });
      input.addEventListener("blur", function () {
        touched = input.value !== "" || touched;
        if (touched) { show(input, problem(form, input)); }
      });
    });
    form.addEventListener("submit", function (event) {
      var first = null;
      inputs.forEach(function (input) {
        var message = problem(form, input);
        show(input, message);
        if (message && !first) { first = input; }
      });
      if (first) {
        event.preventDefault();
        first.focus();
      }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-validate]"), attach);
    Array.prototype.forEach.call(document.querySelectorAll("input[data-rules]"), markRules);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
