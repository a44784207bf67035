import type { ButtonHTMLAttributes } from "react";

export function Button({ variant = "primary", className = "", ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: "primary" | "secondary" }) {
  const styles =
    variant === "primary"
      ? "bg-brand text-white hover:bg-brand-dark disabled:opacity-60"
      : "border border-slate-300 bg-white text-ink hover:bg-slate-50 disabled:opacity-60";
  return <button className={`inline-flex items-center justify-center gap-2 rounded-md px-4 py-2 text-sm font-medium ${styles} ${className}`} {...props} />;
}

export const linkButtonClass = "inline-flex items-center justify-center gap-2 rounded-md bg-brand px-4 py-2 text-sm font-medium text-white hover:bg-brand-dark";
