export * from "./user-idle.js";
