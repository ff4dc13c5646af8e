/*! shipflow EDD widget v1 — "Get it by Thu, Nov 26 — order within 2 h 14 min".
 * Embed (docs/customer-pages.md): <script src="https://SHIPFLOW/widget/v1/edd-widget.js"
 *   data-brand="CODE" data-sku="SKU" data-country="US" data-lang="en" async></script>
 * On a cart or checkout page: data-placement="cart" or "checkout" and data-lines="SKU:2,SKU:1"
 * instead of data-sku (the cart's date is its slowest line's).
 * Optional: data-postal-code (known already), data-target (CSS selector to render into),
 * data-range="true" (earliest–latest instead of "by"), data-choices="express" (standard and
 * express with their prices; at checkout a choice that fires "shipflow:delivery-option").
 * A page with a Content-Security-Policy allows SHIPFLOW in script-src and connect-src; with a
 * nonce-based style-src it gives this tag its nonce, which the widget's <style> reuses.
 * It shows nothing rather than a wrong or broken date: any error hides it.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.Intl) return;

  var STRINGS = {
    en: {
      getBy: "Get it by {date}", within: "order within {time}", ask: "See when it arrives",
      postal: "Postal code", zip: "ZIP code", check: "Check", change: "Change",
      to: "Delivering to {code}", invalid: "Please enter a valid postal code.",
      none: "We can't show a delivery date for this postal code yet.",
      arrives: "Arrives {range}", standard: "Standard delivery", express: "Express delivery",
      options: "Delivery options", military: "We can't ship to APO, FPO or DPO addresses.",
      territory: "We can't ship to this U.S. territory."
    },
    "zh-Hant": {
      getBy: "預計 {date} 前送達", within: "請在 {time} 內下單", ask: "查看送達日期",
      postal: "郵遞區號", zip: "郵遞區號", check: "查詢", change: "更改",
      to: "寄送至 {code}", invalid: "請輸入有效的郵遞區號。",
      none: "目前無法顯示此郵遞區號的送達日期。",
      arrives: "預計 {range} 送達", standard: "標準配送", express: "快速配送",
      options: "配送方式", military: "無法寄送至美軍 APO、FPO 或 DPO 地址。",
      territory: "無法寄送至此美國屬地。"
    },
    "zh-Hans": {
      getBy: "预计 {date} 前送达", within: "请在 {time} 内下单", ask: "查看送达日期",
      postal: "邮政编码", zip: "邮政编码", check: "查询", change: "更改",
      to: "配送至 {code}", invalid: "请输入有效的邮政编码。",
      none: "暂时无法显示该邮政编码的送达日期。",
      arrives: "预计 {range} 送达", standard: "标准配送", express: "加急配送",
      options: "配送方式", military: "无法寄送至美军 APO、FPO 或 DPO 地址。",
      territory: "无法寄送至该美国属地。"
    },
    ja: {
      getBy: "{date}までにお届け", within: "あと{time}以内のご注文で", ask: "お届け日を確認",
      postal: "郵便番号", zip: "郵便番号", check: "確認", change: "変更",
      to: "お届け先: {code}", invalid: "正しい郵便番号を入力してください。",
      none: "この郵便番号のお届け日は現在表示できません。",
      arrives: "{range}にお届け予定", standard: "通常配送", express: "お急ぎ便",
      options: "配送方法", military: "APO・FPO・DPO（米軍・外交郵便）の住所にはお届けできません。",
      territory: "この米国領にはお届けできません。"
    },
    fa: {
      getBy: "تا {date} به دستتان می‌رسد", within: "اگر تا {time} دیگر سفارش دهید",
      ask: "زمان تحویل را ببینید", postal: "کد پستی", zip: "کد پستی (ZIP)", check: "بررسی",
      change: "تغییر", to: "ارسال به {code}", invalid: "لطفاً یک کد پستی معتبر وارد کنید.",
      none: "فعلاً نمی‌توانیم تاریخ تحویل این کد پستی را نشان دهیم.",
      arrives: "رسیدن بین {range}", standard: "ارسال عادی", express: "ارسال سریع",
      options: "روش‌های ارسال", military: "به نشانی‌های APO، FPO یا DPO ارسال نداریم.",
      territory: "به این سرزمین وابسته‌ی آمریکا ارسال نداریم."
    }
  };

  function language(tag) {
    var parts = String(tag || "en").toLowerCase().replace("_", "-").split("-");
    if (parts[0] === "zh") {
      return /^(tw|hk|mo|hant)$/.test(parts[1] || "") || parts[2] === "hant" ? "zh-Hant" : "zh-Hans";
    }
    return STRINGS[parts[0]] ? parts[0] : "en";
  }

  var data = script.dataset;
  var brand = data.brand, sku = data.sku, lines = data.lines;
  var placement = data.placement || "product";
  if (!brand || !(placement === "product" ? sku : lines)) return;
  var range = data.range === "true";
  var levels = data.choices === "express" ? "standard,express" : "standard";
  var country = (data.country || "US").toUpperCase();
  var lang = language(data.lang || document.documentElement.lang || navigator.language);
  var text = STRINGS[lang];
  var endpoint = new URL("edd", script.src);
  var storageKey = "shipflow.postal_code." + country;
  var timer = null;

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function stored() {
    try { return localStorage.getItem(storageKey); } catch (e) { return null; }
  }
  function store(code) {
    try {
      if (code) localStorage.setItem(storageKey, code); else localStorage.removeItem(storageKey);
    } catch (e) { /* private mode: the code is simply asked again next time */ }
  }

  var root = document.createElement("div");
  root.className = "sf-edd";
  root.lang = lang;
  root.dir = lang === "fa" ? "rtl" : "ltr";
  root.hidden = true;
  root.setAttribute("aria-live", "polite");
  var target = data.target && document.querySelector(data.target);
  if (target) target.appendChild(root); else script.parentNode.insertBefore(root, script.nextSibling);

  if (!document.getElementById("sf-edd-style")) {
    var style = document.createElement("style");
    style.id = "sf-edd-style";
    style.nonce = script.nonce; // a page with a nonce-based CSP nonces this script: same nonce
    style.textContent =
      ".sf-edd{font:inherit;margin:1rem 0;padding:.85rem 1rem;border:1px solid #d6dbe1;" +
      "border-radius:10px;background:#f7f9fb;color:#1c1f23;max-width:32rem}" +
      ".sf-edd p{margin:0}.sf-edd .sf-edd-date{font-weight:700;font-size:1.05rem}" +
      ".sf-edd .sf-edd-meta{color:#59616b;font-size:.875rem;margin-top:.25rem}" +
      ".sf-edd form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}" +
      ".sf-edd label{display:block;font-weight:700;font-size:.9rem;margin-bottom:.25rem}" +
      ".sf-edd input{font:inherit;padding:.5rem .6rem;border:2px solid #8a939d;border-radius:8px;" +
      "width:9rem;min-height:44px}" +
      ".sf-edd button{font:inherit;cursor:pointer;min-height:44px;padding:.5rem 1rem;" +
      "border-radius:8px;border:2px solid currentColor;background:#fff;color:inherit}" +
      ".sf-edd button.sf-edd-link{min-height:0;padding:0;border:0;background:none;" +
      "text-decoration:underline;color:inherit}" +
      ".sf-edd :focus-visible{outline:3px solid #1a73e8;outline-offset:2px}" +
      ".sf-edd .sf-edd-error{color:#8a1c1c;font-weight:700;flex-basis:100%}" +
      ".sf-edd ul{margin:.5rem 0 0;padding:0;list-style:none}.sf-edd li{margin:.15rem 0}" +
      ".sf-edd fieldset{border:0;margin:.5rem 0 0;padding:0}" +
      ".sf-edd legend{font-weight:700;font-size:.9rem;padding:0}" +
      ".sf-edd fieldset label{display:flex;gap:.5rem;align-items:center;font-weight:400;" +
      "min-height:44px;margin:0}.sf-edd input[type=radio]{width:1.25rem;min-height:0;margin:0}";
    document.head.appendChild(style);
  }

  function element(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "text") node.textContent = props[key];
      else node.setAttribute(key, props[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function hide() {
    clearInterval(timer);
    root.hidden = true;
    root.textContent = "";
  }

  // `problem`: {message, invalid (the code itself is wrong), focus (the shopper just typed)}.
  function ask(problem, value) {
    clearInterval(timer);
    var id = "sf-edd-postal-" + (sku || placement).replace(/\W/g, "");
    var input = element("input", {
      id: id, name: "postal_code", autocomplete: "postal-code", required: "required",
      inputmode: country === "US" ? "numeric" : "text", maxlength: "16", value: value || ""
    });
    var error = null;
    if (problem && problem.message) {
      error = element("p", { id: id + "-error", "class": "sf-edd-error", role: "alert", text: problem.message });
      input.setAttribute("aria-describedby", error.id);
      if (problem.invalid) input.setAttribute("aria-invalid", "true");
    }
    var form = element("form", { novalidate: "novalidate" }, [
      element("div", {}, [element("label", { "for": id, text: country === "US" ? text.zip : text.postal }), input]),
      element("button", { type: "submit", text: text.check }),
      error
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = input.value.trim();
      if (!code) { ask({ message: text.invalid, invalid: true, focus: true }); return; }
      load(code, true);
    });
    root.textContent = "";
    root.appendChild(element("p", { "class": "sf-edd-meta", text: text.ask }));
    root.appendChild(form);
    root.hidden = false;
    if (problem && problem.focus) input.focus();
  }

  function validDay(iso) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!match) return null;
    var day = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3]));
    return isNaN(day.getTime()) || day.getUTCDate() !== +match[3] ? null : day;
  }

  // "4 hours, 43 minutes", "4時間43分", "۴ ساعت و ۴۳ دقیقه": the server's format_duration.
  function duration(seconds) {
    var hours = Math.floor(seconds / 3600), minutes = Math.floor((seconds % 3600) / 60);
    var unit = function (value, name) {
      return new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: "long" }).format(value);
    };
    // As the server's format_duration: "6 hours", "4 hours, 43 minutes", at least "1 minute".
    var parts = hours ? [unit(hours, "hour")] : [];
    if (minutes || !hours) parts.push(unit(Math.max(1, minutes), "minute"));
    var text = Intl.ListFormat ? new Intl.ListFormat(lang, { type: "unit" }).format(parts) : parts.join(" ");
    return /^(zh|ja)/.test(lang) ? text.replace(/\s+/g, "") : text;
  }

  var dayFormat = new Intl.DateTimeFormat(lang, {
    weekday: "short", month: "short", day: "numeric", timeZone: "UTC", calendar: "gregory"
  });

  // "Get it by Thu, Nov 26", or with data-range "Arrives Tue, Nov 24 – Thu, Nov 26"; null
  // for a date that does not exist (the widget then hides rather than show it).
  function when(option) {
    var by = validDay(option.promise_date);
    if (!by) return null;
    var first = validDay(option.earliest), last = validDay(option.latest);
    if (range && first && last && first < last) {
      var span = dayFormat.formatRange ? dayFormat.formatRange(first, last)
        : dayFormat.format(first) + " – " + dayFormat.format(last);
      return say(text.arrives, { range: span });
    }
    return say(text.getBy, { date: dayFormat.format(by) });
  }

  function optionLabel(option) {
    return [text[option.level] || option.level, when(option), option.price && option.price.text]
      .filter(Boolean).join(" · ");
  }

  // At checkout: the option chosen, which the date line and the countdown follow.
  var chosen = null, follow = null;

  function choose(option) {
    chosen = option;
    if (follow) follow();
    root.dispatchEvent(new CustomEvent("shipflow:delivery-option", {
      bubbles: true,
      detail: {
        level: option.level, carrier: option.carrier, service: option.service,
        promise_date: option.promise_date, price: option.price || null
      }
    }));
  }

  // Standard and express: a list to read, or at checkout a choice to make.
  function choices(options) {
    if (placement !== "checkout") {
      return element("ul", { "class": "sf-edd-options" }, options.map(function (option) {
        return element("li", { text: optionLabel(option) });
      }));
    }
    var name = "sf-edd-option-" + brand;
    return element("fieldset", {}, [element("legend", { text: text.options })].concat(
      options.map(function (option, index) {
        var radio = element("input", { type: "radio", name: name, value: option.level });
        radio.checked = index === 0;
        radio.addEventListener("change", function () { if (radio.checked) choose(option); });
        return element("label", {}, [radio, element("span", { text: optionLabel(option) })]);
      })));
  }

  function show(answer, code, receivedAt) {
    var options = answer.options || [];
    var line = when(answer);
    if (!line || options.some(function (o) { return !when(o); })) { hide(); return; }
    var headline = element("span", { "class": "sf-edd-date", text: line });
    var countdown = element("span", { "class": "sf-edd-countdown" });
    var change = element("button", { type: "button", "class": "sf-edd-link", text: text.change });
    change.addEventListener("click", function () { ask(null, code); root.querySelector("input").focus(); });
    root.textContent = "";
    root.appendChild(element("p", {}, [headline, countdown]));
    if (options.length > 1) root.appendChild(choices(options));
    root.appendChild(element("p", { "class": "sf-edd-meta" }, [
      document.createTextNode(say(text.to, { code: code }) + " · "), change
    ]));
    root.hidden = false;
    chosen = null;
    follow = function () { headline.textContent = when(chosen); tick(); };
    if (placement === "checkout" && options.length) choose(options[0]);

    function tick() {
      var seconds = (chosen || answer).countdown_seconds || 0;
      // Whole seconds gone since the answer came: the first tick shows the answer's own figure.
      var left = seconds - Math.floor((Date.now() - receivedAt) / 1000);
      if (left <= 0 && seconds > 0) { load(code, false); return; }
      countdown.textContent = left > 0 && left < 86400 ? " — " + say(text.within, { time: duration(left) }) : "";
    }
    clearInterval(timer);
    tick();
    timer = setInterval(tick, 30000);
  }

  function load(code, typed) {
    var url = new URL(endpoint);
    var query = { brand: brand, postal_code: code, country: country, lang: lang, service_level: levels };
    if (placement === "product") query.sku = sku; else query.lines = lines;
    url.search = new URLSearchParams(query).toString();
    fetch(url.toString(), { credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      })
      .then(function (result) {
        var body = result.body || {};
        if (result.status === 200 && body.available === true) {
          store(code);
          show(body, code, Date.now());
        } else if (result.status === 200 && body.reason === "not_served") {
          ask({ message: text[body.reach] || text.none, focus: typed }, code);
        } else if (result.status === 200 && typed) {
          ask({ message: text.none, focus: true }, code);
        } else if ((body.errors || []).some(function (e) { return e.field === "postal_code"; })) {
          store(null);
          ask(typed ? { message: text.invalid, invalid: true, focus: true } : null, typed ? code : "");
        } else {
          hide();
        }
      })
      .catch(hide);
  }

  var known = data.postalCode || stored();
  if (known) load(known, false); else ask(null);
})();
