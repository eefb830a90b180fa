// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Batch payouts in one transaction, after disperse.app: the caller (a hot wallet) approves this
/// contract once, and every payout is a `transferFrom(caller, recipient, value)` — so each recipient shows up
/// as its own Transfer log from the hot wallet, in a transaction the hot wallet did not send to the token.
contract Disperse {
    error LengthMismatch();
    error TransferFailed(address recipient);

    function disperseToken(IERC20 token, address[] calldata recipients, uint256[] calldata values) external {
        if (recipients.length != values.length) revert LengthMismatch();
        for (uint256 i = 0; i < recipients.length; i++) {
            if (!token.transferFrom(msg.sender, recipients[i], values[i])) revert TransferFailed(recipients[i]);
        }
    }

    /// @dev The native value leaves the caller as one transaction to this contract; what is left over is refunded.
    function disperseEther(address payable[] calldata recipients, uint256[] calldata values) external payable {
        if (recipients.length != values.length) revert LengthMismatch();
        for (uint256 i = 0; i < recipients.length; i++) {
            (bool ok,) = recipients[i].call{value: values[i]}("");
            if (!ok) revert TransferFailed(recipients[i]);
        }
        uint256 left = address(this).balance;
        if (left > 0) {
            (bool ok,) = payable(msg.sender).call{value: left}("");
            if (!ok) revert TransferFailed(msg.sender);
        }
    }
}
