// Tellwise works without JavaScript. This file only adds comforts: read-aloud with the
// browser's own speech synthesis, a count of flagged messages, and a print button.
"use strict";

function setUpReadAloud() {
  if (!("speechSynthesis" in window)) return;
  document.querySelectorAll("[data-read-aloud]").forEach((button) => {
    const wrapper = button.closest(".read-aloud");
    if (wrapper) wrapper.hidden = false;
    const readLabel = button.textContent;
    const stopLabel = button.dataset.stopLabel || readLabel;
    button.addEventListener("click", () => {
      if (window.speechSynthesis.speaking) {
        window.speechSynthesis.cancel();
        button.textContent = readLabel;
        return;
      }
      const target = document.querySelector(button.dataset.readAloud);
      if (!target) return;
      const utterance = new SpeechSynthesisUtterance(target.innerText);
      utterance.lang = document.documentElement.lang || "en";
      utterance.rate = 0.9;
      utterance.onend = () => { button.textContent = readLabel; };
      button.textContent = stopLabel;
      window.speechSynthesis.speak(utterance);
    });
  });
}

function setUpFlagCounts() {
  document.querySelectorAll("[data-flag-form]").forEach((form) => {
    const output = form.querySelector(".flag-count");
    if (!output) return;
    const update = () => {
      const n = form.querySelectorAll('input[name="choice"]:checked').length;
      output.textContent = output.dataset.countLabel.replace("{n}", String(n));
    };
    form.addEventListener("change", update);
    update();
  });
}

function setUpPrint() {
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpReadAloud();
  setUpFlagCounts();
  setUpPrint();
});
