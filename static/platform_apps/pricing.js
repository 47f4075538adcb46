// The pricing form shows the price only for the types that have one and the billing interval
// only for a subscription. Without JavaScript every field shows and the server says what is
// not needed. A hidden field is emptied, so it never sends a stale value.
(function () {
  "use strict";
  var form = document.querySelector(".pricing-form");
  if (!form) return;
  var type = form.querySelector("select[name=type]");
  var price = form.querySelector("[name=price]");
  var interval = form.querySelector("[name=subscription_interval]");
  if (!type || !price || !interval) return;
  var rowOf = function (field) { return field.closest(".form-row"); };

  function update() {
    var kind = type.value;
    var hasPrice = kind !== "FREE";
    var hasInterval = kind === "SUBSCRIPTION";
    rowOf(price).hidden = !hasPrice;
    rowOf(interval).hidden = !hasInterval;
    if (!hasPrice) price.value = "";
    if (!hasInterval) interval.value = "";
  }
  type.addEventListener("change", update);
  update();
})();
