import { redirect } from "next/navigation";

export default function MappingPage() {
  redirect("/mapping/products");
}
