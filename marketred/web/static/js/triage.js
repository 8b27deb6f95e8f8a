// Atascadas: the header checkbox selects every quote on the page.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.querySelector("[data-select-all]");
  if (!all) return;
  const boxes = () => document.querySelectorAll("[data-select]");
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
});
