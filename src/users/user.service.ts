import type { UserRecord, UserRepo } from "../core/ports";
import type { Principal } from "../core/auth";

export class UserService {
  constructor(private readonly users: UserRepo) {}

  /** The signed-in user; null without a principal or when the account is gone. */
  me(principal: Principal | null): Promise<UserRecord | null> {
    return principal ? this.users.findById(principal.userId) : Promise.resolve(null);
  }
}
