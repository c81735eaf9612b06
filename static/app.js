// Tellwise works without JavaScript. This file only adds comforts: read-aloud with the
// browser's own speech synthesis, a count of flagged messages, a print button, and saving a
// lesson step in the background so that a lost connection says so and tries again.
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

// A lesson step's form is sent in the background. When the network or the server fails, the
// page keeps the student's choices, says so, and sends the same answer again (the server
// stores an answer once, however often it arrives). Any other answer from the server (a
// refusal, a message) is shown by sending the form the ordinary way.
function setUpSaving() {
  const status = document.getElementById("save-status");
  if (!status || !window.fetch) return;
  document.querySelectorAll("form[data-save]").forEach((form) => {
    let sending = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (sending) return;
      sending = true;
      const body = new URLSearchParams(new FormData(form, event.submitter || null));
      let delay = 2;
      const attempt = async () => {
        try {
          const response = await fetch(form.action, {
            method: "POST",
            body,
            credentials: "same-origin",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
          });
          if (response.ok) {
            window.location.assign(response.url);
            return;
          }
          if (response.status < 500) {
            sending = false;
            HTMLFormElement.prototype.submit.call(form);
            return;
          }
        } catch (_) {
          // Offline or the connection dropped: try again below.
        }
        status.textContent = status.dataset.failed.replace("{n}", String(delay));
        status.hidden = false;
        window.setTimeout(attempt, delay * 1000);
        delay = Math.min(delay * 2, 30);
      };
      attempt();
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpReadAloud();
  setUpFlagCounts();
  setUpPrint();
  setUpSaving();
});
