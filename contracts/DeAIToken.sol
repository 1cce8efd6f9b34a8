// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title DeAI governance token
/// @notice Plain OZ ERC20Votes token with a block-number clock (the OZ default), so proposal snapshots
///         and checkpoints are block numbers. Minting is owner-only; `mintBatch` exists so airdrops cost
///         one transaction for many Transfer events.
contract DeAIToken is ERC20, ERC20Permit, ERC20Votes, Ownable {
    error LengthMismatch();

    constructor(address initialOwner)
        ERC20("DeAI Governance Token", "DEAI")
        ERC20Permit("DeAI Governance Token")
        Ownable(initialOwner)
    {}

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    function mintBatch(address[] calldata to, uint256[] calldata amounts) external onlyOwner {
        if (to.length != amounts.length) revert LengthMismatch();
        for (uint256 i = 0; i < to.length; ++i) {
            _mint(to[i], amounts[i]);
        }
    }

    // Required overrides: both ERC20Votes and ERC20 define _update; both ERC20Permit and Nonces define nonces.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
